-- GetPipelineState of one pipeline (name=..., default bench-get).
OP = "GetPipelineState"
BODY = function() return '{"name":"' .. (ARGS.name or "bench-get") .. '"}' end
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
