-- ListPipelineExecutions, first page (name=..., max=N sets maxResults; default page 100).
OP = "ListPipelineExecutions"
BODY = function()
   local extra = ""
   if ARGS.max then extra = ',"maxResults":' .. ARGS.max end
   return '{"pipelineName":"' .. (ARGS.name or "bench-execs") .. '"' .. extra .. '}'
end
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
