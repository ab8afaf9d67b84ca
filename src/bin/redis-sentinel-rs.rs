#[global_allocator]
static ALLOC: redis_rs::alloc::Counting = redis_rs::alloc::Counting;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(redis_rs::startup::main_sentinel(args));
}
