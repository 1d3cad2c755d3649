-- wrk script: POST /v1/search with request bodies cycled from a file, every response checked.
--
--   wrk -c 64 -d 30s -t 2 -s bench/e2e/serve_search.lua http://127.0.0.1:PORT -- BODIES [PATH]
--
-- BODIES holds one JSON request body per line (bench/e2e/serve_load.sh writes them from the
-- SciFact test queries); PATH defaults to /v1/search. Thread i starts at body i * n / threads, so
-- the threads do not send the same queries in step.
--
-- A response counts as valid only when its status is 200 and its body is a search result with
-- at least one hit ("object":"search.result" and "rank":1; the server's JSON is compact). Every
-- other response is counted by status (and as invalid), so a wrong route, a bad body or an
-- error answer can never pass as success.
--
-- done() prints one line: "ragft_load_result: " followed by a JSON object with
--   requests, duration_s, rps, latency_ms {mean, p50, p90, p99, max}, socket_errors
--   {connect, read, write, timeout}, status_errors (wrk's count of status > 399),
--   non_2xx, valid, invalid, statuses {"200": n, ...}, bodies (request bodies cycled).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
  -- setup() runs for every thread before any starts: each learns the final count.
  for _, t in ipairs(threads) do t:set("nthreads", #threads) end
end

local function read_bodies(file)
  local bodies = {}
  local f = io.open(file, "r")
  if f == nil then error("serve_search.lua: cannot open the bodies file " .. tostring(file)) end
  for line in f:lines() do
    if line:match("%S") then table.insert(bodies, line) end
  end
  f:close()
  if #bodies == 0 then error("serve_search.lua: the bodies file " .. file .. " holds no request body") end
  return bodies
end

function init(args)
  local file = args[1]
  if file == nil then error("serve_search.lua: give the bodies file after --") end
  local path = args[2] or "/v1/search"
  local bodies = read_bodies(file)
  requests = {}
  local headers = {["Content-Type"] = "application/json"}
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", path, headers, body)
  end
  nbodies = #requests
  local n = nthreads or 1
  next_index = (math.floor(id * #requests / n) % #requests) + 1
  statuses = {}
  valid = 0
  invalid = 0
end

function request()
  local r = requests[next_index]
  next_index = next_index + 1
  if next_index > #requests then next_index = 1 end
  return r
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 200 and body ~= nil and body:find('"object":"search.result"', 1, true) and
     body:find('"rank":1,', 1, true) then
    valid = valid + 1
  else
    invalid = invalid + 1
  end
end

local function json_number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == math.floor(x) and math.abs(x) < 1e15 then return string.format("%d", x) end
  return string.format("%.3f", x)
end

function done(summary, latency, per_thread)
  local statuses_all = {}
  local valid_all, invalid_all, non_2xx, nbodies_seen = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    valid_all = valid_all + (t:get("valid") or 0)
    invalid_all = invalid_all + (t:get("invalid") or 0)
    nbodies_seen = t:get("nbodies") or nbodies_seen
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do
      statuses_all[k] = (statuses_all[k] or 0) + v
      local code = tonumber(k)
      if code < 200 or code > 299 then non_2xx = non_2xx + v end
    end
  end
  local parts = {}
  for k, v in pairs(statuses_all) do table.insert(parts, string.format('"%s":%d', k, v)) end
  table.sort(parts)
  local ms = function(us) return json_number(us / 1000.0) end
  local e = summary.errors
  local duration_s = summary.duration / 1e6
  print("ragft_load_result: {" .. table.concat({
    '"requests":' .. json_number(summary.requests),
    '"duration_s":' .. json_number(duration_s),
    '"rps":' .. json_number(summary.requests / duration_s),
    '"latency_ms":{"mean":' .. ms(latency.mean) .. ',"p50":' .. ms(latency:percentile(50)) ..
      ',"p90":' .. ms(latency:percentile(90)) .. ',"p99":' .. ms(latency:percentile(99)) ..
      ',"max":' .. ms(latency.max) .. '}',
    '"socket_errors":{"connect":' .. e.connect .. ',"read":' .. e.read .. ',"write":' .. e.write ..
      ',"timeout":' .. e.timeout .. '}',
    '"status_errors":' .. e.status,
    '"non_2xx":' .. non_2xx,
    '"valid":' .. valid_all,
    '"invalid":' .. invalid_all,
    '"statuses":{' .. table.concat(parts, ",") .. '}',
    '"bodies":' .. nbodies_seen,
  }, ",") .. "}")
end
