-- StartPipelineExecution of one pipeline (name=..., default bench-start: V2, PARALLEL).
OP = "StartPipelineExecution"
BODY = function() return '{"name":"' .. (ARGS.name or "bench-start") .. '"}' end
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
