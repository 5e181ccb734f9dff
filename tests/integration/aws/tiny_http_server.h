// TinyHttpServer: a minimal HTTP/1.1 server on 127.0.0.1 for tests that play AWS endpoints which
// have no local server (IMDS, the container agent, STS, the SSO portal) and for a forward proxy.
// One thread accepts; each connection is served on its own thread, one request, then closed
// (Connection: close), which every HTTP client handles.
// Thread-safety: the handler runs on connection threads concurrently; it must lock its own state.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ddb2pg::testing {

struct TinyRequest {
  std::string method;
  std::string target;  // as sent: "/path?query" or, to a proxy, "http://host:port/path"
  std::string path;    // target without the query
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct TinyResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

inline std::string TinyUrlDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// "a=1&b=2" → {a: 1, b: 2}
inline std::map<std::string, std::string> TinyParseForm(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    const std::string pair = text.substr(start, end - start);
    const size_t equals = pair.find('=');
    if (!pair.empty()) {
      out[TinyUrlDecode(pair.substr(0, equals))] = equals == std::string::npos ? "" : TinyUrlDecode(pair.substr(equals + 1));
    }
    start = end + 1;
  }
  return out;
}

class TinyHttpServer {
 public:
  using Handler = std::function<TinyResponse(const TinyRequest&)>;

  explicit TinyHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listen_fd_, 64) != 0) {
      throw std::runtime_error("TinyHttpServer: cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~TinyHttpServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> connections;
    {
      std::lock_guard lock(mutex_);
      connections.swap(connections_);
    }
    for (auto& thread : connections) thread.join();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd poll_fd{listen_fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 100) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  static bool ReadRequest(int fd, TinyRequest& request) {
    std::string data;
    char buffer[8192];
    size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) return false;
      data.append(buffer, static_cast<size_t>(got));
      header_end = data.find("\r\n\r\n");
    }
    const size_t line_end = data.find("\r\n");
    const std::string request_line = data.substr(0, line_end);
    const size_t space1 = request_line.find(' ');
    const size_t space2 = request_line.find(' ', space1 + 1);
    request.method = request_line.substr(0, space1);
    request.target = request_line.substr(space1 + 1, space2 - space1 - 1);
    size_t at = line_end + 2;
    while (at < header_end) {
      const size_t end = data.find("\r\n", at);
      const std::string line = data.substr(at, end - at);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t value_start = colon + 1;
        while (value_start < line.size() && line[value_start] == ' ') ++value_start;
        request.headers[name] = line.substr(value_start);
      }
      at = end + 2;
    }
    size_t content_length = 0;
    if (auto it = request.headers.find("content-length"); it != request.headers.end()) {
      content_length = std::stoul(it->second);
    }
    request.body = data.substr(header_end + 4);
    while (request.body.size() < content_length) {
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) return false;
      request.body.append(buffer, static_cast<size_t>(got));
    }
    std::string target = request.target;
    if (target.rfind("http://", 0) == 0) {  // proxy form
      const size_t path_start = target.find('/', 7);
      target = path_start == std::string::npos ? "/" : target.substr(path_start);
    }
    const size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.query = TinyParseForm(target.substr(question + 1));
    return true;
  }

  void Serve(int fd) {
    TinyRequest request;
    if (ReadRequest(fd, request)) {
      TinyResponse response = handler_(request);
      std::string out = "HTTP/1.1 " + std::to_string(response.status) + " X\r\nContent-Type: " + response.content_type +
                        "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\nConnection: close\r\n";
      for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
      out += "\r\n" + response.body;
      size_t sent = 0;
      while (sent < out.size()) {
        const ssize_t wrote = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (wrote <= 0) break;
        sent += static_cast<size_t>(wrote);
      }
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> connections_;
};

}  // namespace ddb2pg::testing
