-- GET a manifest by tag, asking for OCI and Docker v2 schema 2 manifests.
wrk.method = "GET"
wrk.headers["Accept"] = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
