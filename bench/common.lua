-- Shared by the bench/*.lua wrk scripts (loaded with dofile from the script's own folder).
-- Each script sets OP (the X-Amz-Target operation) and either BODY (a fixed JSON body) or
-- make_body(thread_id, counter) (a body per request), then loads this file.
--
-- Script arguments (after `--` on the wrk command line) are key=value pairs:
--   name=NAME       the pipeline the read scripts address
--   max=N           maxResults for the list scripts
--   role=ARN        the roleArn of created pipelines (moto checks it exists in its IAM)
--   rotate=N        CreatePipeline: move to a new 12-digit account every N creates per thread
--                   (AWS allows 1,000 pipelines per account and region); 0 keeps key "test"
-- Every reply other than 2xx is counted; done() prints `BENCH_ERRORS n` and the first one.

local threads = {}
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("id", next_id)
   table.insert(threads, thread)
end

local function credential(key)
   return "AWS4-HMAC-SHA256 Credential=" .. key ..
      "/20260101/us-east-1/codepipeline/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
end

ARGS = {}
errors = 0
first_error = ""
local counter = 0
local fixed_request = nil

function init(args)
   for _, a in ipairs(args) do
      local k, v = a:match("^([%w_]+)=(.*)$")
      if k then ARGS[k] = v end
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
   wrk.headers["X-Amz-Target"] = "CodePipeline_20150709." .. OP
   wrk.headers["X-Amz-Date"] = "20260101T000000Z"
   wrk.headers["Authorization"] = credential("test")
   if BODY then
      local body = BODY
      if type(body) == "function" then body = body() end
      fixed_request = wrk.format("POST", "/", wrk.headers, body)
   end
end

function request()
   if fixed_request then return fixed_request end
   counter = counter + 1
   local headers = {}
   for k, v in pairs(wrk.headers) do headers[k] = v end
   local rotate = tonumber(ARGS.rotate or "0")
   if rotate > 0 then
      -- 12 digits: 1 + thread (3 digits) + account serial (8 digits); never 000000000000
      local acct = string.format("1%03d%08d", id, math.floor((counter - 1) / rotate))
      headers["Authorization"] = credential(acct)
   end
   return wrk.format("POST", "/", headers, make_body(id, counter))
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      errors = errors + 1
      if first_error == "" then
         first_error = tostring(status) .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local total, first = 0, ""
   for _, t in ipairs(threads) do
      total = total + (t:get("errors") or 0)
      local f = t:get("first_error") or ""
      if first == "" and f ~= "" then first = f end
   end
   io.write(string.format("BENCH_ERRORS %d\n", total))
   if first ~= "" then
      io.write("BENCH_FIRST_ERROR " .. string.gsub(first, "\n", " ") .. "\n")
   end
   io.write(string.format("BENCH_REQUESTS %d\n", summary.requests))
   io.write(string.format("BENCH_P50_US %d\n", latency:percentile(50)))
   io.write(string.format("BENCH_P99_US %d\n", latency:percentile(99)))
end
