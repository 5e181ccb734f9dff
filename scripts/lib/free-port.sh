# free_port [--reserve]: prints a loopback port nothing listens on, for a server or listener that
# a script starts. Sourced by scripts/servers, tests/support/pg_tls_cluster and bench/run.
#
# Ports come from 10000 up to the start of the kernel's ephemeral range: a port inside it can be
# taken by any outgoing connection's local end (a test's client, a runner's connection to
# PostgreSQL) between the check here and the server's bind, which is how a CI run once lost
# PostgreSQL's port ("Address already in use").
#
# --reserve also takes the port against our own concurrent starts (mkdir /tmp/.ddb2pg-port-PORT,
# which the caller removes when its server stops). Returns 1 when no port was found.

ephemeral_low() {
  local low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  [ "$low" -gt 12000 ] 2>/dev/null || low=32768
  echo "$low"
}

free_port() {
  local port low; low=$(ephemeral_low)
  for _ in $(seq 1 500); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      if [ "${1:-}" != --reserve ] || mkdir "/tmp/.ddb2pg-port-$port" 2>/dev/null; then
        echo "$port"
        return 0
      fi
    fi
  done
  return 1
}
