fn main() {
    std::process::exit(redis_rs::ctl::main(std::env::args_os().collect()));
}
