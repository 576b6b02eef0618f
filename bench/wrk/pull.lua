-- The small requests of a pull, alternating on each connection: GET the
-- manifest by tag, then GET a small blob (the image's config). Each pair is
-- one pull. Environment: PULL_PATH_MANIFEST, PULL_PATH_BLOB (paths), BEARER
-- (a registry token; none without auth). PULL_ONLY=manifest sends only the
-- manifest GET (the hot-path case of bench/hotpath_ab.sh).
local manifest = os.getenv("PULL_PATH_MANIFEST") or "/v2/bench/app/manifests/bench"
local blob = os.getenv("PULL_PATH_BLOB")
local only_manifest = os.getenv("PULL_ONLY") == "manifest" or blob == nil
local headers = {
  ["Accept"] = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
}
local bearer = os.getenv("BEARER")
if bearer and bearer ~= "" then headers["Authorization"] = "Bearer " .. bearer end

local n = 0
request = function()
  n = n + 1
  if only_manifest or n % 2 == 1 then return wrk.format("GET", manifest, headers) end
  return wrk.format("GET", blob, headers)
end
