-- PUT or GET of one presigned S3 URL, over and over (the S3 section of bench/run).
-- Script arguments (after `--`): method=PUT|GET, path=/bucket/key?X-Amz-... (the presigned
-- URL's path and query), size=N (bytes of each PUT body).
-- Every reply other than 2xx is counted; done() prints `BENCH_ERRORS n` and the first one.

local threads = {}
ARGS = {}
errors = 0
first_error = ""
local req = nil

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   for _, a in ipairs(args) do
      local k, v = a:match("^([%w_]+)=(.*)$")
      if k then ARGS[k] = v end
   end
   local body = nil
   if ARGS.method == "PUT" then
      body = string.rep("x", tonumber(ARGS.size or "1024"))
   end
   req = wrk.format(ARGS.method or "GET", ARGS.path or "/", nil, body)
end

function request()
   return req
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      errors = errors + 1
      if first_error == "" then
         first_error = status .. " " .. string.sub(body or "", 1, 200)
      end
   end
end

function done(summary, latency, requests)
   local total = 0
   local first = ""
   for _, t in ipairs(threads) do
      total = total + t:get("errors")
      local f = t:get("first_error")
      if first == "" and f and f ~= "" then first = f end
   end
   io.write("BENCH_ERRORS " .. total .. "\n")
   if first ~= "" then io.write("BENCH_FIRST_ERROR " .. first .. "\n") end
end
