#include "app/cli.h"

int main(int argc, char** argv) { return ddb2pg::app::RunCli(argc, argv); }
