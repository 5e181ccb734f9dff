// The ddb2pg command line (CLI11): run, validate, init-schema, status, generate, demo.
#pragma once

namespace ddb2pg::app {

// Parses argv, runs the command, returns the process exit code (see exit_codes.h).
int RunCli(int argc, char** argv);

}  // namespace ddb2pg::app
