// The manifest view: layers with sizes, the config, an index's platforms,
// labels (add, remove) and referrers (signatures, SBOMs, attestations).
import { get, post, del, repoPath } from "./api.js";
import { h, replace, field, input, table, link, button, busy, say, confirmDialog } from "./dom.js";
import { bytes, when, shortDigest } from "./format.js";

function manifestUrl(repo, digest) {
  return "/repository/" + repoPath(repo) + "?manifest=" + encodeURIComponent(digest);
}

export async function manifestView(ctx, digest) {
  const { repo, info, body } = ctx;
  const base = "repository/" + repoPath(repo) + "/manifest/" + encodeURIComponent(digest);
  const [m, labels, refs] = await Promise.all([get(base), get(base + "/labels"),
    get(base + "/referrers")]);
  if (!ctx.live()) return;
  let parsed = {};
  try { parsed = JSON.parse(m.manifest_data); } catch { parsed = {}; }

  const facts = h("dl", { class: "facts" },
    h("dt", null, "Digest"), h("dd", null, h("code", null, m.digest)),
    h("dt", null, "Media type"), h("dd", null, m.media_type),
    h("dt", null, "Size"), h("dd", null, bytes(m.size)),
    m.layers_compressed_size !== null ? [h("dt", null, "Layers, compressed"),
      h("dd", null, bytes(m.layers_compressed_size))] : null,
    h("dt", null, "Pushed"), h("dd", null, when(m.created)),
    parsed.config ? [h("dt", null, "Config"), h("dd", null, h("code", null,
      shortDigest(parsed.config.digest)), " ", parsed.config.mediaType, " (",
      bytes(parsed.config.size), ")")] : null,
    parsed.artifactType ? [h("dt", null, "Artifact type"), h("dd", null, parsed.artifactType)] : null,
    m.subject ? [h("dt", null, "Refers to"), h("dd", null,
      link(manifestUrl(repo, m.subject), h("code", null, shortDigest(m.subject))))] : null);

  const parts = [h("h2", null, "Manifest ", h("code", null, shortDigest(m.digest))), facts];
  if (m.is_manifest_list) {
    const rows = (parsed.manifests || []).map((c) => h("tr", null,
      h("td", null, c.platform ? [c.platform.os, c.platform.architecture, c.platform.variant]
        .filter(Boolean).join("/") : "(none)"),
      h("td", null, link(manifestUrl(repo, c.digest), h("code", null, shortDigest(c.digest)))),
      h("td", null, bytes(c.size)), h("td", null, c.mediaType)));
    parts.push(table({ text: "Platforms", visible: true }, ["Platform", "Manifest", "Size",
      "Media type"], rows));
  } else {
    const rows = (m.layers || []).map((l) => h("tr", null, h("td", null, String(l.index + 1)),
      h("td", null, h("code", { title: l.blob_digest }, shortDigest(l.blob_digest))),
      h("td", null, bytes(l.compressed_size)), h("td", null, l.media_type)));
    parts.push(table({ text: "Layers", visible: true }, ["#", "Digest", "Size", "Media type"], rows));
  }

  // Labels.
  const labelRows = (labels.labels || []).map((l) => h("tr", null,
    h("td", null, l.key), h("td", null, l.value), h("td", null, l.source_type),
    h("td", null, info.can_write ? button("Remove", async (e) => {
      if (!(await confirmDialog("Remove label " + l.key + "?", "", "Remove"))) return;
      await busy(e.target, async () => {
        await del(base + "/labels/" + encodeURIComponent(l.id));
        say("Removed label " + l.key + ".");
        ctx.navigate(location.pathname + location.search, { replaceState: true });
      });
    }, { class: "danger", "aria-label": "Remove label " + l.key }) : null)));
  parts.push(table({ text: "Labels", visible: true }, ["Key", "Value", "Source", ""], labelRows));
  if (info.can_write) {
    const key = input({ name: "key", required: true });
    const value = input({ name: "value", required: true });
    const form = h("form", { class: "toolbar" }, field("Label key", key),
      field("Label value", value), h("button", { type: "submit" }, "Add label"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await busy(e.submitter, async () => {
        await post(base + "/labels", { key: key.value.trim(), value: value.value,
          media_type: "text/plain" });
        say("Added label " + key.value.trim() + ".");
        ctx.navigate(location.pathname + location.search, { replaceState: true });
      });
    });
    parts.push(form);
  }

  // Referrers (quayd's /api/v1 route over the OCI referrers API).
  const refRows = (refs.referrers || []).map((r) => h("tr", null,
    h("td", null, r.artifact_type || r.media_type),
    h("td", null, link(manifestUrl(repo, r.digest), h("code", null, shortDigest(r.digest)))),
    h("td", null, bytes(r.size))));
  parts.push(table({ text: "Referrers (signatures, SBOMs, attestations)", visible: true },
    ["Artifact type", "Manifest", "Size"], refRows));

  parts.push(h("details", null, h("summary", null, "Raw manifest"),
    h("pre", { class: "raw" }, JSON.stringify(parsed, null, 2))));
  parts.push(h("p", null, link("/repository/" + repoPath(repo), "Back to the tags")));
  replace(body, parts);
}
