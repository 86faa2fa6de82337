-- wrk_paths.lua: wrk cycles through the request paths listed, one per line,
-- in the file named by $WRK_PATHS (bench/http.py writes them), each thread
-- from its own start so that threads do not ask the same query together.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local counter = 0
i = 0 -- global: setup() gives each thread its own start

setup = function(thread)
  counter = counter + 1
  thread:set("i", (counter - 1) * 37)
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
