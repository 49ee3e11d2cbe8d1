-- wrk script: 16 requests pipelined on each connection (the TechEmpower plaintext shape).
init = function(args)
  local r = {}
  for i = 1, 16 do
    r[i] = wrk.format(nil, "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end
