-- ListPipelines, first page (max=N sets maxResults; default: the server's page, 100 here).
OP = "ListPipelines"
BODY = function()
   if ARGS.max then return '{"maxResults":' .. ARGS.max .. '}' end
   return '{}'
end
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
