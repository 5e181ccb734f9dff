#include "aws/process_credentials_provider.h"

#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>

#include "aws/credential_parsing.h"
#include "aws/json_fields.h"

namespace ddb2pg::aws {

core::Result<Credentials> ProcessCredentialsProvider::Fetch() {
  FILE* pipe = popen(command_.c_str(), "r");
  if (pipe == nullptr) return core::Status::Unavailable(Name() + ": cannot start the command");
  std::string output;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, read);
  const int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = status != -1 && WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                                              : std::string("did not exit normally");
    return core::Status::Unavailable(Name() + ": the command " + how);
  }
  simdjson::dom::parser parser;
  const std::optional<simdjson::dom::object> root = ParseObject(parser, output);
  if (!root || IntegerField(*root, "Version") != 1) {
    return core::Status::Internal(Name() + ": the command's output is not a JSON object with \"Version\": 1");
  }
  auto credentials = ParseCredentialJson(output, Name(), false);
  if (!credentials.ok()) return credentials.status();
  credentials->source = Name();
  return credentials;
}

}  // namespace ddb2pg::aws
