-- HTTP load for the loyalty API, driven by bench/run.py.
--
-- Arguments after `--`: mode (earn | balance | floor | mixed), number of seeded members, API key, run tag.
--   earn:    POST /api/v1/orders for a random seeded member; order id and Idempotency-Key are unique per
--            request: run tag + thread number + a per-thread random nonce + a per-thread counter (all the
--            connections of one thread share its Lua state, so the counter is unique across them).
--   balance: GET /api/v1/members/<random seeded member>/balance.
--   floor:   GET /bench/floor, a SELECT 1 through the same middleware and API key (config/floor.py).
--   mixed:   earn and redeem, half each: the earn above (of a purchase 40 days ago, past the seeded program's
--            return window, so that what it earns can be redeemed at once), or POST /api/v1/redemptions of 1 point, for a random
--            member of B-000001..B-<members>: members = 10 puts all the traffic on 10 hot members (bench/batch.py
--            runs it so, and over all seeded members for the uniform figure).
-- Every response that is not 2xx is counted by status, and the first few bodies are kept; done() prints
-- one line `BENCH_RESULT {json}` with throughput, latency, socket errors and those failures.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   mode = args[1] or "balance"
   members = tonumber(args[2] or "1")
   tag = args[4] or "run"
   math.randomseed(os.time() + id * 1000003 + math.floor((os.clock() * 1e6) % 1e6))
   nonce = string.format("%08x", math.random(0, 0x7fffffff))
   counter = 0
   statuses = {}
   failures = {}
   auth = "Api-Key " .. (args[3] or "")
   released_at = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 40 * 86400)
end

local function random_member()
   return string.format("B-%06d", math.random(1, members))
end

function request()
   if mode == "mixed" and math.random() < 0.5 then
      counter = counter + 1
      local ref = string.format("%s-%d-%s-%d", tag, id, nonce, counter)
      local headers = {
         ["Authorization"] = auth,
         ["Content-Type"] = "application/json",
         ["Accept"] = "application/json",
         ["Idempotency-Key"] = "r-" .. ref,
      }
      return wrk.format("POST", "/api/v1/redemptions", headers,
                        string.format('{"member": "%s", "points": 1}', random_member()))
   end
   if mode == "earn" or mode == "mixed" then
      counter = counter + 1
      local ref = string.format("%s-%d-%s-%d", tag, id, nonce, counter)
      local body = string.format('{"member": "%s", "order_id": "o-%s", "amount": "123.45", "currency": "EUR"}',
                                 random_member(), ref)
      if mode == "mixed" then  -- a purchase from before the return window: its points are spendable at once
         body = string.format('{"member": "%s", "order_id": "o-%s", "amount": "123.45", "currency": "EUR", ' ..
                              '"occurred_at": "%s"}', random_member(), ref, released_at)
      end
      local headers = {
         ["Authorization"] = auth,
         ["Content-Type"] = "application/json",
         ["Accept"] = "application/json",
         ["Idempotency-Key"] = "k-" .. ref,
      }
      return wrk.format("POST", "/api/v1/orders", headers, body)
   end
   local headers = {["Authorization"] = auth, ["Accept"] = "application/json"}
   if mode == "floor" then
      return wrk.format("GET", "/bench/floor", headers)
   end
   return wrk.format("GET", "/api/v1/members/" .. random_member() .. "/balance", headers)
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      return
   end
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if #failures < 3 then
      table.insert(failures, key .. " " .. string.sub(body or "", 1, 600))
   end
end

local function json(value)
   local kind = type(value)
   if kind == "number" then
      return string.format("%.17g", value)
   elseif kind == "string" then
      return '"' .. value:gsub('[%c"\\]', function(c)
         return string.format("\\u%04x", string.byte(c))
      end) .. '"'
   elseif kind == "table" then
      local parts = {}
      if #value > 0 then
         for _, item in ipairs(value) do
            table.insert(parts, json(item))
         end
         return "[" .. table.concat(parts, ",") .. "]"
      end
      for name, item in pairs(value) do
         table.insert(parts, json(tostring(name)) .. ":" .. json(item))
      end
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return "null"
end

function done(summary, latency, requests)
   local non2xx, by_status, samples = 0, {}, {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses") or {}) do
         by_status[status] = (by_status[status] or 0) + count
         non2xx = non2xx + count
      end
      for _, sample in ipairs(thread:get("failures") or {}) do
         if #samples < 5 then
            table.insert(samples, sample)
         end
      end
   end
   local result = {
      mode = threads[1] and threads[1]:get("mode") or "?",
      requests = summary.requests,
      duration_s = summary.duration / 1e6,
      rps = summary.requests / (summary.duration / 1e6),
      non2xx = non2xx,
      statuses = by_status,
      failures = samples,
      socket_errors = {
         connect = summary.errors.connect, read = summary.errors.read, write = summary.errors.write,
         timeout = summary.errors.timeout,
      },
      latency_ms = {
         mean = latency.mean / 1000, p50 = latency:percentile(50) / 1000, p90 = latency:percentile(90) / 1000,
         p99 = latency:percentile(99) / 1000, max = latency.max / 1000,
      },
   }
   io.write("BENCH_RESULT " .. json(result) .. "\n")
end
