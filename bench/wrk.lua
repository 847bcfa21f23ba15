-- The requests wrk sends, from the environment bench/api.py sets: BENCH_METHOD (GET or
-- POST), BENCH_BODY (the JSON body of a POST; several, one a line, are sent in turn) and
-- BENCH_KEY (the API key, if any). wrk keeps its connections alive, so the loopback's
-- ports never run out (TIME_WAIT).
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local key = os.getenv("BENCH_KEY")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
local bodies = {}
for body in string.gmatch(os.getenv("BENCH_BODY") or "", "[^\n]+") do
  table.insert(bodies, body)
end
if #bodies > 0 then
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = bodies[1]
end
local sent = 0
request = function()
  sent = sent + 1
  if #bodies > 1 then
    return wrk.format(nil, nil, nil, bodies[(sent % #bodies) + 1])
  end
  return wrk.format()
end
