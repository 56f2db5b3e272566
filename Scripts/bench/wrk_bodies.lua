-- wrk: POST the JSON bodies of the file named by WRK_BODIES (one per line) in turn, each once while they last:
-- thread k of n sends lines k, k + n, k + 2n, ... so that the threads advance through the stream's time together.
-- Each thread counts the bodies it ran out of (sent again from its start); done() prints the total as
-- "bodies repeated N" (a repeated body is a retry, answered from memory).
local threads = {}
local count = 0
function setup(thread)
  thread:set("id", count)
  table.insert(threads, thread)
  count = count + 1
end
local bodies = {}
local i = 0
repeated = 0
function init(args)
  local n = tonumber(os.getenv("WRK_THREADS") or "2")
  local k = 0
  for line in io.lines(os.getenv("WRK_BODIES")) do
    if k % n == id then bodies[#bodies + 1] = line end
    k = k + 1
  end
  -- Each request formatted once, here, so that the load generator's own work per request stays small.
  local headers = { ["Content-Type"] = "application/json" }
  for j = 1, #bodies do bodies[j] = wrk.format("POST", nil, headers, bodies[j]) end
  -- The garbage of loading collected now, not in pauses while latencies are measured (request() allocates nothing).
  collectgarbage("collect")
  collectgarbage("stop")
end
function request()
  i = i + 1
  if i > #bodies then repeated = repeated + 1 end
  return bodies[(i - 1) % #bodies + 1]
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("repeated") or 0) end
  io.write(string.format("bodies repeated %d\n", total))
end
