// ddb2pg entry point. The commands arrive with the CLI issue; for now only --version and --help.
#include <cstring>
#include <iostream>

#include "app/version.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "ddb2pg " << ddb2pg::app::kVersion << "\n";
    return 0;
  }
  std::cout << "ddb2pg " << ddb2pg::app::kVersion
            << " — DynamoDB → PostgreSQL change data capture.\nThe commands arrive with the CLI; see README.md.\n";
  return argc > 1 && std::strcmp(argv[1], "--help") != 0 ? 2 : 0;
}
