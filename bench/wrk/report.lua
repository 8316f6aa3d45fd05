-- Prints wrk's figures on one line that bench/loadgen.py reads.
-- With `-- FILE THREADS PATH`: POSTs pre-signed bodies from FILE ("signature<TAB>json"
-- per line), each wrk thread taking every THREADS-th line, each body once; a thread
-- that runs out stops and sends only GET /_bench/bare/ until then (`exhausted`).
-- A fourth argument `cycle` sends the bodies round and round instead.
local next_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

function init(args)
  exhausted = 0
  plain = wrk.format()
  if args[1] == nil then
    return
  end
  local nthreads = tonumber(args[2])
  local path = args[3]
  cycle = args[4] == "cycle"
  bodies = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      local tab = line:find("\t", 1, true)
      bodies[#bodies + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["Stripe-Signature"] = line:sub(1, tab - 1),
      }, line:sub(tab + 1))
    end
    i = i + 1
  end
  index = 0
end

-- Defined at the top level: wrk decides before init() whether requests are dynamic.
function request()
  if bodies == nil then
    return plain
  end
  index = index + 1
  if index > #bodies and cycle then
    index = 1
  elseif index > #bodies then
    exhausted = exhausted + 1
    if exhausted == 1 then
      wrk.thread:stop()
    end
    return wrk.format("GET", "/_bench/bare/")
  end
  return bodies[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  local exhausted = 0
  for _, thread in ipairs(threads) do
    exhausted = exhausted + (thread:get("exhausted") or 0)
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.0f "
      .. "status_errors=%d connect=%d read=%d write=%d timeout=%d exhausted=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, e.status, e.connect, e.read, e.write, e.timeout, exhausted))
end
