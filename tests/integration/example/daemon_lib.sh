# Shared by the example end-to-end scripts (sourced, not run): starts fachadapterd on a config
# that listens on 127.0.0.1:0 and waits for the port it logs.
# start_daemon BIN CONFIG LOG  -> sets $daemon (pid) and $port, or exits 1 with the log.
start_daemon() {
  "$1/bin/fachadapterd" --config "$2" 2> "$3" &
  daemon=$!
  port=""
  for _ in $(seq 1 300); do
    # The log may not exist yet (the shell opens it in the background job); under pipefail a
    # failing sed would end the calling script.
    port=$(sed -n 's/.*serving [0-9]* entities on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$3" 2>/dev/null | head -1 || true)
    [ -n "$port" ] && return 0
    kill -0 "$daemon" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "daemon did not start" >&2
  cat "$3" >&2
  exit 1
}
