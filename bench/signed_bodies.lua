-- wrk script: each request carries the next pre-signed body, never one twice.
-- Usage: wrk -t N ... -s signed_bodies.lua URL -- METHOD N [BODIES_FILE [tao]]
-- Threads take disjoint slices (every n-th line), so no body is sent twice by two threads.
-- With "tao", each line is timestamp TAB nonce TAB hotkey TAB signature TAB body and is sent
-- with the X-Tao-* headers of Tao v2.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local method = args[1] or "GET"
  local thread_count = tonumber(args[2] or "1")
  local bodies = args[3]
  local tao = args[4] == "tao"
  local path = wrk.path
  requests = {}
  if bodies == nil then
    requests[1] = wrk.format(method, path)
  else
    local headers = { ["Content-Type"] = "application/json" }
    local index = 0
    for line in io.lines(bodies) do
      if index % thread_count == id then
        if tao then
          local ts, nonce, hotkey, signature, body =
            line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
          local signed = {
            ["Content-Type"] = "application/json",
            ["X-Tao-Version"] = "2",
            ["X-Tao-Timestamp"] = ts,
            ["X-Tao-Nonce"] = nonce,
            ["X-Tao-Signed-By"] = hotkey,
            ["X-Tao-Signature"] = signature,
          }
          requests[#requests + 1] = wrk.format(method, path, signed, body)
        else
          requests[#requests + 1] = wrk.format(method, path, headers, line)
        end
      end
      index = index + 1
    end
  end
  cursor = 0
  wrapped = 0
  repeats = bodies ~= nil
end

function request()
  cursor = cursor + 1
  if cursor > #requests then
    cursor = 1
    if repeats then
      wrapped = wrapped + 1
    end
  end
  return requests[cursor]
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + (thread:get("wrapped") or 0)
  end
  local e = summary.errors
  local out = {}
  out[#out + 1] = string.format('"requests":%d,"duration_us":%d,"bytes":%d',
    summary.requests, summary.duration, summary.bytes)
  out[#out + 1] = string.format(
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
    e.connect, e.read, e.write, e.status, e.timeout)
  out[#out + 1] = string.format('"latency_us":{"mean":%.1f,"max":%d,"stdev":%.1f',
    latency.mean, latency.max, latency.stdev)
  for _, p in ipairs({ 50, 75, 90, 95, 99, 99.9 }) do
    out[#out] = out[#out] .. string.format(',"p%s":%d', tostring(p), latency:percentile(p))
  end
  out[#out] = out[#out] .. "}"
  out[#out + 1] = string.format('"body_wraps":%d', wraps)
  io.write("WRK_JSON {" .. table.concat(out, ",") .. "}\n")
end
