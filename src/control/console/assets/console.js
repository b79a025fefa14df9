// The console: a client of the JSON API (through /_local/console/api/{Operation}), redrawn from
// the API whenever the server's live feed says something changed. It holds no state of its own
// beyond what it last read, and every button shows the aws CLI command that does the same.
"use strict";

const DEFAULT_ACCOUNT = "000000000000";
const DEFAULT_REGION = "us-east-1";
const scope = {
  account: localStorage.getItem("console.account") || DEFAULT_ACCOUNT,
  region: localStorage.getItem("console.region") || DEFAULT_REGION,
};
const recent = new Map(); // pipeline name -> the last engine events seen for it (newest first)

// ---- small helpers ---------------------------------------------------------------------------

/** Builds an element; children may be strings (text), elements, arrays, or null. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  const add = (c) => {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else el.append(c instanceof Node ? c : String(c));
  };
  children.forEach(add);
  return el;
}

function when(t) {
  return t ? new Date(t * 1000).toLocaleString() : "—";
}

function duration(from, to) {
  if (!from || !to) return "—";
  const s = Math.max(0, to - from);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 90) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function statusBadge(status) {
  const s = status || "None";
  const label = { InProgress: "In progress", None: "Didn't run" }[s] || s;
  return h("span", { class: "status", dataset: { status: s } }, label);
}

function short(id) {
  return id ? id.slice(0, 8) : "";
}

function link(hash, text) {
  return h("a", { href: hash }, text);
}

const enc = encodeURIComponent;
const pipelineHash = (name) => `#/pipelines/${enc(name)}`;

// ---- the API and the equivalent CLI ----------------------------------------------------------

/** One operation of CodePipeline, or of `service` (codebuild, logs) when given. */
async function api(operation, body, service) {
  const response = await fetch(service ? `api/${service}/${operation}` : `api/${operation}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-console-account": scope.account,
      "x-console-region": scope.region,
    },
    body: JSON.stringify(body || {}),
  });
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch (_) {
    json = { message: text };
  }
  if (!response.ok) {
    const error = new Error(`${json.__type || response.status}: ${json.message || text}`);
    error.code = json.__type;
    throw error;
  }
  return json;
}

/** Every page of a list operation (bounded, for labs rather than thousands of items). */
async function all(operation, body, key, pages = 10) {
  let out = [];
  let token;
  for (let i = 0; i < pages; i++) {
    const page = await api(operation, token ? { ...body, nextToken: token } : body);
    out = out.concat(page[key] || []);
    token = page.nextToken;
    if (!token) break;
  }
  return out;
}

function quote(v) {
  const s = String(v);
  return /^[A-Za-z0-9_.,:\/@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** The aws CLI command for `op` with `args` ([flag, value] pairs; a value of true is a bare flag). */
function cli(op, args, service = "codepipeline") {
  const parts = [];
  if (scope.account !== DEFAULT_ACCOUNT) parts.push(`AWS_ACCESS_KEY_ID=${scope.account}`);
  parts.push(`aws --endpoint-url ${location.origin} --region ${scope.region} ${service} ${op}`);
  for (const [flag, value] of args || []) {
    if (value === undefined || value === null || value === "") continue;
    parts.push(value === true ? `--${flag}` : `--${flag} ${quote(value)}`);
  }
  return parts.join(" \\\n    ");
}

function cliHint(title, op, args, service) {
  return h("details", { class: "cli-hint" }, h("summary", {}, title), h("pre", { class: "cli" }, cli(op, args, service)));
}

// ---- dialogs: every action the console offers ------------------------------------------------

const dialog = () => document.getElementById("dialog");

/**
 * Opens a dialog with `fields` (elements), a live CLI preview from `command()` ([op, args]) and
 * `buttons` ([label, class, run]); `run` calls the API, then the dialog closes and the page redraws.
 */
function openDialog(title, fields, command, buttons) {
  const d = dialog();
  document.getElementById("dialog-title").textContent = title;
  const body = document.getElementById("dialog-body");
  body.replaceChildren(...fields);
  const error = document.getElementById("dialog-error");
  error.hidden = true;
  const preview = () => {
    const [op, args] = command();
    document.getElementById("dialog-cli").textContent = cli(op, args);
  };
  body.oninput = preview;
  body.onchange = preview;
  preview();
  const row = document.getElementById("dialog-buttons");
  const cancel = h("button", { type: "button", onclick: () => d.close() }, "Cancel");
  row.replaceChildren(
    cancel,
    ...buttons.map(([label, cls, run]) =>
      h("button", {
        type: "button",
        class: cls,
        onclick: async (ev) => {
          ev.target.disabled = true;
          try {
            await run();
            d.close();
            refreshSoon();
          } catch (e) {
            error.textContent = e.message;
            error.hidden = false;
          } finally {
            ev.target.disabled = false;
          }
        },
      }, label)
    )
  );
  d.showModal();
  const first = body.querySelector("textarea, input");
  (first || cancel).focus();
}

function field(label, input) {
  const id = `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", {}, h("label", { for: id }, label), input);
}

function releaseChange(name) {
  const args = () => [["name", name]];
  openDialog(`Release change: ${name}`, [h("p", {}, "Starts a new execution with the latest source revisions.")],
    () => ["start-pipeline-execution", args()],
    [["Release", "primary", () => api("StartPipelineExecution", { name })]]);
}

function stopExecution(pipeline, executionId) {
  const abandon = h("input", { type: "checkbox", name: "abandon" });
  const reason = h("textarea", { rows: 2, maxlength: 200 });
  const request = () => ({
    pipelineName: pipeline,
    pipelineExecutionId: executionId,
    abandon: abandon.checked,
    reason: reason.value || undefined,
  });
  openDialog(`Stop execution ${short(executionId)}`, [
    h("p", {}, "Stop and wait lets in-progress actions finish; stop and abandon does not wait for them."),
    h("label", { class: "inline" }, abandon, " Stop and abandon"),
    field("Reason (optional)", reason),
  ], () => {
    const r = request();
    return ["stop-pipeline-execution", [["pipeline-name", pipeline], ["pipeline-execution-id", executionId],
      [r.abandon ? "abandon" : "no-abandon", true], ["reason", r.reason]]];
  }, [["Stop", "danger", () => api("StopPipelineExecution", request())]]);
}

function retryStage(pipeline, stage, executionId) {
  const all = h("input", { type: "checkbox", name: "all" });
  const mode = () => (all.checked ? "ALL_ACTIONS" : "FAILED_ACTIONS");
  openDialog(`Retry stage ${stage}`, [
    h("p", {}, `Retries the failed actions of execution ${short(executionId)} in this stage.`),
    h("label", { class: "inline" }, all, " Retry all actions of the stage"),
  ], () => ["retry-stage-execution", [["pipeline-name", pipeline], ["stage-name", stage],
    ["pipeline-execution-id", executionId], ["retry-mode", mode()]]],
  [["Retry", "primary", () => api("RetryStageExecution", {
    pipelineName: pipeline, stageName: stage, pipelineExecutionId: executionId, retryMode: mode(),
  })]]);
}

function toggleTransition(pipeline, stage, enabled) {
  if (!enabled) {
    openDialog(`Enable transition into ${stage}`, [h("p", {}, "Lets executions move into this stage again.")],
      () => ["enable-stage-transition", [["pipeline-name", pipeline], ["stage-name", stage], ["transition-type", "Inbound"]]],
      [["Enable", "primary", () => api("EnableStageTransition", { pipelineName: pipeline, stageName: stage, transitionType: "Inbound" })]]);
    return;
  }
  const reason = h("input", { type: "text", maxlength: 300, required: true, value: "Paused for review" });
  openDialog(`Disable transition into ${stage}`, [
    h("p", {}, "Executions wait before this stage until the transition is enabled again."),
    field("Reason", reason),
  ], () => ["disable-stage-transition", [["pipeline-name", pipeline], ["stage-name", stage],
    ["transition-type", "Inbound"], ["reason", reason.value]]],
  [["Disable", "danger", () => api("DisableStageTransition", {
    pipelineName: pipeline, stageName: stage, transitionType: "Inbound", reason: reason.value,
  })]]);
}

function review(pipeline, stage, action, token) {
  const comment = h("textarea", { rows: 3, maxlength: 512 });
  const request = (status) => ({
    pipelineName: pipeline, stageName: stage, actionName: action,
    result: { summary: comment.value, status }, token,
  });
  const run = (status) => () => api("PutApprovalResult", request(status));
  openDialog(`Review ${action}`, [
    h("p", {}, `Approve to let the execution go on; reject to fail stage ${stage}.`),
    field("Comment", comment),
  ], () => ["put-approval-result", [["pipeline-name", pipeline], ["stage-name", stage], ["action-name", action],
    ["result", JSON.stringify({ summary: comment.value, status: "Approved" })], ["token", token]]],
  [["Reject", "danger", run("Rejected")], ["Approve", "primary", run("Approved")]]);
}

// ---- pages ---------------------------------------------------------------------------------

async function listPage() {
  const pipelines = await all("ListPipelines", {}, "pipelines");
  const latest = await Promise.all(pipelines.map((p) =>
    api("ListPipelineExecutions", { pipelineName: p.name, maxResults: 1 })
      .then((r) => (r.pipelineExecutionSummaries || [])[0])
      .catch(() => undefined)));
  const rows = pipelines.map((p, i) => {
    const e = latest[i];
    return h("tr", { dataset: { pipeline: p.name } },
      h("td", {}, link(pipelineHash(p.name), p.name)),
      h("td", {}, p.pipelineType || "V1"),
      h("td", {}, p.executionMode || "SUPERSEDED"),
      h("td", {}, e ? [statusBadge(e.status), " ", link(`${pipelineHash(p.name)}/executions/${enc(e.pipelineExecutionId)}`, short(e.pipelineExecutionId))] : statusBadge()),
      h("td", {}, when(Math.max(p.updated || 0, e ? e.lastUpdateTime || 0 : 0))));
  });
  return [
    h("h1", {}, "Pipelines"),
    h("p", { class: "muted" }, `Account ${scope.account}, region ${scope.region}.`),
    pipelines.length
      ? h("table", { id: "pipelines" },
        h("thead", {}, h("tr", {}, ["Name", "Type", "Execution mode", "Latest execution", "Last change"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows))
      : h("p", {}, "No pipelines here yet. Create one with the CLI (see below); it appears here at once."),
    cliHint("List them with the aws CLI", "list-pipelines", []),
    cliHint("Create one from a JSON file", "create-pipeline", [["cli-input-json", "file://pipeline.json"]]),
  ];
}

function actionCard(pipeline, stage, decl, state) {
  const latest = (state && state.latestExecution) || {};
  const t = decl.actionTypeId;
  const approval = t.category === "Approval" && t.provider === "Manual";
  const url = latest.externalExecutionUrl || (state && state.entityUrl);
  return h("article", { class: "action", dataset: { action: decl.name, status: latest.status || "None" }, "aria-label": `Action ${decl.name}` },
    h("h3", {}, decl.name),
    h("div", { class: "provider" }, `${t.provider} (${t.category}, ${t.owner})`),
    statusBadge(latest.status),
    latest.lastStatusChange ? h("div", { class: "provider" }, when(latest.lastStatusChange)) : null,
    latest.summary ? h("div", { class: "summary" }, latest.summary) : null,
    latest.errorDetails ? h("div", { class: "error" }, `${latest.errorDetails.code}: ${latest.errorDetails.message}`) : null,
    url ? h("div", { class: "summary" }, h("a", { href: url, rel: "noreferrer", target: "_blank" }, "Details")) : null,
    approval && latest.status === "InProgress" && latest.token
      ? h("button", { class: "primary", type: "button", onclick: () => review(pipeline, stage, decl.name, latest.token) }, "Review")
      : null);
}

function transition(pipeline, stage, t) {
  const enabled = !t || t.enabled !== false;
  return h("div", { class: `transition${enabled ? "" : " disabled"}`, dataset: { transitionInto: stage } },
    h("span", { class: "arrow", "aria-hidden": "true" }, "→"),
    enabled ? "Transition enabled" : [h("strong", {}, "Disabled"), h("span", {}, t.disabledReason || "")],
    h("button", { type: "button", onclick: () => toggleTransition(pipeline, stage, enabled) },
      enabled ? "Disable transition" : "Enable transition"));
}

function stageColumn(pipeline, stageDecl, state) {
  const latest = (state && state.latestExecution) || {};
  const byActionName = new Map(((state && state.actionStates) || []).map((a) => [a.actionName, a]));
  const orders = new Map();
  for (const a of stageDecl.actions) {
    const n = a.runOrder || 1;
    if (!orders.has(n)) orders.set(n, []);
    orders.get(n).push(a);
  }
  const groups = [...orders.keys()].sort((a, b) => a - b).map((n) => [
    orders.size > 1 ? h("div", { class: "runorder" }, `Run order ${n}`) : null,
    orders.get(n).map((a) => actionCard(pipeline, stageDecl.name, a, byActionName.get(a.name))),
  ]);
  const id = latest.pipelineExecutionId;
  return h("section", { class: "stage", dataset: { stage: stageDecl.name, status: latest.status || "None" }, "aria-label": `Stage ${stageDecl.name}` },
    h("h2", {}, stageDecl.name),
    h("div", {}, statusBadge(latest.status)),
    h("div", { class: "meta" }, id ? ["Execution ", link(`${pipelineHash(pipeline)}/executions/${enc(id)}`, short(id))] : "No executions yet"),
    groups,
    latest.status === "Failed" && id
      ? h("button", { type: "button", onclick: () => retryStage(pipeline, stageDecl.name, id) }, "Retry") : null,
    latest.status === "InProgress" && id
      ? h("button", { type: "button", class: "danger", onclick: () => stopExecution(pipeline, id) }, "Stop execution") : null);
}

async function pipelinePage(name) {
  const [got, state, history] = await Promise.all([
    api("GetPipeline", { name }),
    api("GetPipelineState", { name }),
    api("ListPipelineExecutions", { pipelineName: name, maxResults: 5 }),
  ]);
  const decl = got.pipeline;
  const states = new Map((state.stageStates || []).map((s) => [s.stageName, s]));
  const columns = [];
  decl.stages.forEach((s, i) => {
    if (i > 0) columns.push(transition(name, s.name, (states.get(s.name) || {}).inboundTransitionState));
    columns.push(stageColumn(name, s, states.get(s.name)));
  });
  const running = (history.pipelineExecutionSummaries || []).filter((e) => e.status === "InProgress");
  const events = recent.get(name) || [];
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("#/", "Pipelines"), " / ", name),
    h("h1", {}, name),
    h("p", { class: "muted" }, `${decl.pipelineType || "V1"} · ${decl.executionMode || "SUPERSEDED"} mode · version ${decl.version}`),
    h("div", { class: "toolbar" },
      h("button", { type: "button", class: "primary", onclick: () => releaseChange(name) }, "Release change"),
      running.map((e) => h("button", { type: "button", class: "danger", onclick: () => stopExecution(name, e.pipelineExecutionId) }, `Stop ${short(e.pipelineExecutionId)}`)),
      h("a", { class: "button", href: `${pipelineHash(name)}/history` }, "Execution history"),
      h("a", { class: "button", href: `${pipelineHash(name)}/json` }, "Declaration (JSON)")),
    h("div", { class: "pipeline", id: "stages" }, columns),
    cliHint("See this state with the aws CLI", "get-pipeline-state", [["name", name]]),
    h("h2", {}, "Recent activity"),
    events.length
      ? h("ul", { class: "events", "aria-live": "polite" }, events.map((e) => h("li", {}, describe(e))))
      : h("p", { class: "muted" }, "Nothing has happened since this page opened."),
  ];
}

function describe(e) {
  const at = new Date(e.at).toLocaleTimeString();
  const d = e.detail;
  const state = d.state.toLowerCase();
  const trigger = d["execution-trigger"] ? ` (${d["execution-trigger"]["trigger-type"]})` : "";
  const what = {
    "CodePipeline Pipeline Execution State Change": `execution ${short(d["execution-id"])} ${state}${trigger}`,
    "CodePipeline Stage Execution State Change": `stage ${d.stage} ${state}`,
    "CodePipeline Action Execution State Change": `action ${d.stage}/${d.action} ${state}`,
  }[e["detail-type"]] || e["detail-type"];
  return `${at}: ${what}`;
}

async function historyPage(name) {
  const executions = await all("ListPipelineExecutions", { pipelineName: name, maxResults: 100 }, "pipelineExecutionSummaries", 1);
  const rows = executions.map((e) => h("tr", { dataset: { execution: e.pipelineExecutionId } },
    h("td", {}, link(`${pipelineHash(name)}/executions/${enc(e.pipelineExecutionId)}`, e.pipelineExecutionId)),
    h("td", {}, statusBadge(e.status), e.statusSummary ? h("div", { class: "muted" }, e.statusSummary) : null),
    h("td", {}, e.trigger ? `${e.trigger.triggerType}` : "—", e.trigger && e.trigger.triggerDetail ? h("div", { class: "muted" }, e.trigger.triggerDetail) : null),
    h("td", {}, when(e.startTime)),
    h("td", {}, e.status === "InProgress" ? "running" : duration(e.startTime, e.lastUpdateTime)),
    h("td", {}, (e.sourceRevisions || []).map((r) => h("div", {}, `${r.actionName}: `, r.revisionSummary || short(r.revisionId))))));
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("#/", "Pipelines"), " / ", link(pipelineHash(name), name), " / History"),
    h("h1", {}, `Execution history: ${name}`),
    executions.length
      ? h("table", { id: "history" },
        h("thead", {}, h("tr", {}, ["Execution", "Status", "Trigger", "Started", "Duration", "Source revisions"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows))
      : h("p", {}, "No executions yet."),
    cliHint("The same list with the aws CLI", "list-pipeline-executions", [["pipeline-name", name]]),
  ];
}

// ---- activity: what the bus carried and what EventBridge rules delivered ---------------------

const ACTIVITY = "#activity";

/** One line on what an event says, in the words of the service that published it. */
function eventSummary(e) {
  const d = e.detail || {};
  const state = (d.state || "").toLowerCase();
  switch (e["detail-type"]) {
    case "CodePipeline Pipeline Execution State Change": return `${d.pipeline}: execution ${short(d["execution-id"])} ${state}`;
    case "CodePipeline Stage Execution State Change": return `${d.pipeline}: stage ${d.stage} ${state}`;
    case "CodePipeline Action Execution State Change": return `${d.pipeline}: action ${d.stage}/${d.action} ${state}`;
    case "Object Created": case "Object Deleted": return `s3://${(d.bucket || {}).name}/${(d.object || {}).key}`;
    case "CodeBuild Build State Change": return `${d["project-name"]}: ${d["build-status"]}`;
    case "CodeCommit Repository State Change": return `${d.repositoryName}: ${d.event} ${d.referenceName || ""}`;
    default: return (e.resources || []).join(", ");
  }
}

const DELIVERY_STATUS = { DELIVERED: ["Succeeded", "Delivered"], FAILED: ["Failed", "Failed"], NOT_DELIVERED: ["None", "Not delivered"] };

async function activityPage() {
  const response = await fetch("../events", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`The server answered ${response.status} for its recent events.`);
  const { events, deliveries } = await response.json();
  const here = events.filter((e) => e.account === scope.account && e.region === scope.region);
  const byId = new Map(events.map((e) => [e.id, e]));
  const deliveryRows = deliveries.map((d) => {
    const [status, label] = DELIVERY_STATUS[d.status] || ["None", d.status];
    const e = byId.get(d.eventId);
    return h("tr", { dataset: { rule: d.rule, status: d.status } },
      h("td", {}, new Date(d.at).toLocaleTimeString()),
      h("td", {}, d.rule),
      h("td", {}, h("code", {}, d.target)),
      h("td", {}, h("span", { class: "status", dataset: { status } }, label),
        d.attempts > 1 ? h("div", { class: "muted" }, `after ${d.attempts} attempts`) : null),
      h("td", {}, d.error || d.detail || (d.httpStatus ? `HTTP ${d.httpStatus}` : ""),
        e ? h("div", { class: "muted" }, `${e["detail-type"]} from ${e.source}`) : null));
  });
  const eventRows = here.map((e) => h("tr", { dataset: { source: e.source } },
    h("td", {}, e.time),
    h("td", {}, e.source),
    h("td", {}, e["detail-type"]),
    h("td", {}, eventSummary(e))));
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("#/", "Pipelines"), " / Activity"),
    h("h1", {}, "Activity"),
    h("p", { class: "muted" }, "What EventBridge rules delivered, and the events on the bus, newest first (the last 200 of each)."),
    h("h2", {}, "Deliveries"),
    deliveries.length
      ? h("table", { id: "deliveries" },
        h("thead", {}, h("tr", {}, ["Time", "Rule", "Target", "Outcome", "Detail"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, deliveryRows))
      : h("p", {}, "No rule has matched an event yet."),
    cliHint("The rules with the aws CLI", "list-rules", [], "events"),
    h("h2", {}, "Events"),
    here.length
      ? h("table", { id: "events" },
        h("thead", {}, h("tr", {}, ["Time", "Source", "Detail type", "What"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, eventRows))
      : h("p", {}, `No events in account ${scope.account}, region ${scope.region} yet.`),
    h("details", { class: "cli-hint" }, h("summary", {}, "Follow them in a terminal"),
      h("pre", { class: "cli" }, `curl -N '${location.origin}/_local/events?follow'`)),
  ];
}

function kv(pairs) {
  const items = pairs.filter(([, v]) => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && !v.length));
  if (!items.length) return h("p", { class: "muted" }, "None");
  return h("dl", { class: "kv" }, items.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

// Artifacts are real objects: each links to its download from the control plane.
function artifacts(list) {
  return (list || []).map((a) => h("div", {}, a.name, a.s3location
    ? [" ", h("a", { class: "artifact", href: `/_local/s3/${encodeURIComponent(a.s3location.bucket)}/${a.s3location.key.split("/").map(encodeURIComponent).join("/")}` }, `s3://${a.s3location.bucket}/${a.s3location.key}`)]
    : null));
}

// A CodeCommit source's commit links to its files, read through CodeCommit's API.
function commitLink(t, config, commit, message) {
  if (t.category !== "Source" || t.provider !== "CodeCommit" || !commit || !config.RepositoryName) return null;
  return h("a", { class: "commit", href: repositoryHash(config.RepositoryName, "tree", commit, "") },
    `${short(commit)} ${message ? (message.split("\n")[0]) : ""}`);
}

const repositoryHash = (repo, kind, commit, path) =>
  `#/repositories/${enc(repo)}/${kind}/${enc(commit)}${path ? "/" + path.split("/").map(enc).join("/") : ""}`;

/** A commit's folder: its message, then its folders and files, each a link. */
async function treePage(repo, commit, path) {
  const [got, folder] = await Promise.all([
    api("GetCommit", { repositoryName: repo, commitId: commit }, "codecommit"),
    api("GetFolder", { repositoryName: repo, commitSpecifier: commit, folderPath: path || "/" }, "codecommit"),
  ]);
  const c = got.commit;
  const up = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  const rows = [
    ...(path ? [h("tr", {}, h("td", {}, link(repositoryHash(repo, "tree", commit, up), "..")), h("td", {}, ""))] : []),
    ...(folder.subFolders || []).map((f) => h("tr", { dataset: { path: f.absolutePath } },
      h("td", {}, link(repositoryHash(repo, "tree", commit, f.absolutePath), `${f.relativePath}/`)), h("td", { class: "muted" }, "folder"))),
    ...(folder.files || []).map((f) => h("tr", { dataset: { path: f.absolutePath } },
      h("td", {}, link(repositoryHash(repo, "file", commit, f.absolutePath), f.relativePath)), h("td", { class: "muted" }, f.fileMode.toLowerCase()))),
  ];
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("#/", "Pipelines"), " / ", `Repository ${repo}`, " / ", short(commit), path ? ` / ${path}` : ""),
    h("h1", {}, `${repo} at ${short(commit)}`),
    kv([
      ["Commit", c.commitId],
      ["Message", h("pre", { id: "commit-message" }, c.message)],
      ["Author", `${c.author.name} <${c.author.email}>`],
    ]),
    h("table", { id: "files" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Kind"))), h("tbody", {}, rows)),
    cliHint("The same with the aws CLI", "get-folder", [["repository-name", repo], ["commit-specifier", commit], ["folder-path", path || "/"]], "codecommit"),
  ];
}

/** One file of a commit, as text. */
async function filePage(repo, commit, path) {
  const got = await api("GetFile", { repositoryName: repo, commitSpecifier: commit, filePath: path }, "codecommit");
  const bytes = Uint8Array.from(atob(got.fileContent || ""), (ch) => ch.charCodeAt(0));
  const up = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("#/", "Pipelines"), " / ", `Repository ${repo}`, " / ",
      link(repositoryHash(repo, "tree", commit, up), short(commit)), ` / ${path}`),
    h("h1", {}, path),
    h("pre", { id: "file-content" }, new TextDecoder().decode(bytes)),
    cliHint("The same with the aws CLI", "get-file", [["repository-name", repo], ["commit-specifier", commit], ["file-path", path]], "codecommit"),
  ];
}

// An S3 deploy's bucket links to the listing of what it deployed.
function deployedTo(t, config) {
  if (t.category !== "Deploy" || t.provider !== "S3" || !config.BucketName) return null;
  const prefix = config.ObjectKey || "";
  return h("a", { class: "deployed", href: `/_local/s3/${encodeURIComponent(config.BucketName)}?prefix=${encodeURIComponent(prefix)}` }, `s3://${config.BucketName}/${prefix}`);
}

// A build action's log, read from CodeBuild's record and CloudWatch Logs while it grows.
const BUILD_PROVIDERS = ["CodeBuild", "Commands"];
let buildsRunning = false; // the page shows a build still running: it redraws itself

async function buildOf(a) {
  const t = (a.input || {}).actionTypeId || {};
  const id = (((a.output || {}).executionResult) || {}).externalExecutionId;
  if (!id || !BUILD_PROVIDERS.includes(t.provider)) return null;
  try {
    const got = await api("BatchGetBuilds", { ids: [id] }, "codebuild");
    const build = (got.builds || [])[0];
    if (!build || !build.logs || !build.logs.streamName) return null;
    const log = await api("GetLogEvents", {
      logGroupName: build.logs.groupName, logStreamName: build.logs.streamName, startFromHead: true,
    }, "logs");
    return { build, lines: (log.events || []).map((ev) => ev.message) };
  } catch (_) {
    return null; // a build deleted since, or a group removed: the card shows no log
  }
}

function buildLog(found) {
  if (!found) return null;
  const { build, lines } = found;
  if (build.buildStatus === "IN_PROGRESS") buildsRunning = true;
  return h("section", { class: "build" },
    h("h4", {}, `Build log: build ${build.buildNumber || ""} `, statusBadge(buildStatusLabel(build.buildStatus)), h("span", { class: "muted" }, ` phase ${build.currentPhase}`)),
    h("pre", { class: "log", dataset: { build: build.id }, tabindex: "0", "aria-label": "Build log" }, lines.join("\n") || "(no output yet)"));
}

function buildStatusLabel(status) {
  return { IN_PROGRESS: "InProgress", SUCCEEDED: "Succeeded", FAILED: "Failed", STOPPED: "Stopped", TIMED_OUT: "Failed", FAULT: "Failed" }[status] || status;
}

async function executionPage(name, id) {
  const [got, actions] = await Promise.all([
    api("GetPipelineExecution", { pipelineName: name, pipelineExecutionId: id }),
    all("ListActionExecutions", { pipelineName: name, filter: { pipelineExecutionId: id } }, "actionExecutionDetails"),
  ]);
  const e = got.pipelineExecution;
  actions.sort((a, b) => (a.startTime || 0) - (b.startTime || 0));
  const builds = await Promise.all(actions.map(buildOf));
  const cards = actions.map((a, i) => {
    const input = a.input || {};
    const output = a.output || {};
    const result = output.executionResult || {};
    const config = input.resolvedConfiguration || input.configuration || {};
    const t = input.actionTypeId || {};
    return h("article", { class: builds[i] ? "card wide" : "card", dataset: { action: a.actionName, stage: a.stageName, status: a.status } },
      h("h3", {}, `${a.stageName} / ${a.actionName}`),
      kv([
        ["Status", statusBadge(a.status)],
        ["Provider", `${t.provider || ""} (${t.category || ""}, ${t.owner || ""})`],
        ["Started", when(a.startTime)],
        ["Last update", when(a.lastUpdateTime)],
        ["Configuration", Object.keys(config).length ? h("pre", {}, JSON.stringify(config, null, 2)) : null],
        ["Input artifacts", artifacts(input.inputArtifacts)],
        ["Output artifacts", artifacts(output.outputArtifacts)],
        ["Deployed to", deployedTo(t, config)],
        ["Commit", commitLink(t, config, result.externalExecutionId, result.externalExecutionSummary)],
        ["Output variables", output.outputVariables && Object.keys(output.outputVariables).length ? h("pre", {}, JSON.stringify(output.outputVariables, null, 2)) : null],
        ["Summary", result.externalExecutionSummary],
        ["External id", result.externalExecutionId],
        ["Link", result.externalExecutionUrl ? h("a", { href: result.externalExecutionUrl, rel: "noreferrer", target: "_blank" }, result.externalExecutionUrl) : null],
        ["Error", result.errorDetails ? h("span", { class: "error" }, `${result.errorDetails.code}: ${result.errorDetails.message}`) : null],
      ]),
      buildLog(builds[i]));
  });
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("#/", "Pipelines"), " / ", link(pipelineHash(name), name), " / ", link(`${pipelineHash(name)}/history`, "History"), " / ", short(id)),
    h("h1", {}, `Execution ${id}`),
    kv([
      ["Status", statusBadge(e.status)],
      ["Summary", e.statusSummary],
      ["Trigger", e.trigger ? `${e.trigger.triggerType} ${e.trigger.triggerDetail || ""}` : null],
      ["Pipeline version", String(e.pipelineVersion)],
      ["Mode", e.executionMode],
      ["Source revisions", (e.artifactRevisions || []).map((r) => h("div", {}, `${r.name}: ${r.revisionSummary || r.revisionId}`))],
      ["Variables", (e.variables || []).map((v) => h("div", {}, `${v.name} = ${v.resolvedValue}`))],
    ]),
    e.status === "InProgress"
      ? h("div", { class: "toolbar" }, h("button", { type: "button", class: "danger", onclick: () => stopExecution(name, id) }, "Stop execution")) : null,
    h("h2", {}, "Actions"),
    actions.length ? h("div", { class: "cards", id: "actions" }, cards) : h("p", { class: "muted" }, "No actions have run yet."),
    cliHint("The same with the aws CLI", "list-action-executions", [["pipeline-name", name], ["filter", `pipelineExecutionId=${id}`]]),
  ];
}

async function jsonPage(name) {
  const got = await api("GetPipeline", { name });
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, link("#/", "Pipelines"), " / ", link(pipelineHash(name), name), " / Declaration"),
    h("h1", {}, `Declaration: ${name}`),
    h("pre", { id: "declaration" }, JSON.stringify({ pipeline: got.pipeline }, null, 2)),
    kv([["ARN", got.metadata.pipelineArn], ["Created", when(got.metadata.created)], ["Updated", when(got.metadata.updated)]]),
    cliHint("The same with the aws CLI", "get-pipeline", [["name", name]]),
  ];
}

// ---- routing and live redraws ----------------------------------------------------------------

/** The page for the current address: [page function, arguments, pipeline it shows or null]. */
function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "repositories" && parts[1] && parts[3]) {
    // Repository pages follow no pipeline: nothing on the live feed redraws them.
    const path = parts.slice(4).filter(Boolean).join("/");
    if (parts[2] === "file") return [filePage, [parts[1], parts[3], path], ""];
    return [treePage, [parts[1], parts[3], path], ""];
  }
  if (parts[0] === "activity") return [activityPage, [], ACTIVITY];
  if (parts[0] === "pipelines" && parts[1]) {
    const name = parts[1];
    if (parts[2] === "history") return [historyPage, [name], name];
    if (parts[2] === "executions" && parts[3]) return [executionPage, [name, parts[3]], name];
    if (parts[2] === "json") return [jsonPage, [name], name];
    return [pipelinePage, [name], name];
  }
  return [listPage, [], null];
}

let drawing = false;
let again = false;
let lastHash = null;

async function draw() {
  if (drawing) {
    again = true;
    return;
  }
  drawing = true;
  const main = document.getElementById("main");
  const [page, args] = route();
  const moved = lastHash !== location.hash;
  lastHash = location.hash;
  buildsRunning = false;
  try {
    const content = await page(...args);
    const scroll = window.scrollY;
    main.replaceChildren(...content.filter(Boolean));
    // Logs follow their end, as a terminal does.
    main.querySelectorAll("pre.log").forEach((p) => { p.scrollTop = p.scrollHeight; });
    main.dataset.ready = "true";
    if (moved) main.focus({ preventScroll: true });
    else window.scrollTo(0, scroll);
  } catch (e) {
    main.replaceChildren(h("nav", { class: "crumbs" }, link("#/", "Pipelines")),
      h("p", { class: "error", role: "alert" }, e.message));
    main.dataset.ready = "true";
  } finally {
    drawing = false;
    if (again) {
      again = false;
      draw();
    } else if (buildsRunning) {
      // A build's output is not an engine event: read its log again while it runs.
      setTimeout(refreshSoon, 1000);
    }
  }
}

let pending = null;
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    draw();
  }, 80);
}

function relevant(account, region, pipeline) {
  if (account !== scope.account || region !== scope.region) return false;
  const [, , shown] = route();
  return shown === null || shown === ACTIVITY || shown === pipeline;
}

function follow() {
  const status = document.getElementById("live");
  const source = new EventSource("events");
  source.addEventListener("open", () => {
    status.textContent = "live";
    status.className = "live on";
    refreshSoon(); // whatever happened while the feed was down
  });
  source.addEventListener("error", () => {
    status.textContent = "reconnecting";
    status.className = "live off";
  });
  // CodePipeline's events as EventBridge delivers them (detail-type, detail).
  source.addEventListener("engine", (m) => {
    const e = JSON.parse(m.data);
    e.at = Date.now();
    const pipeline = e.detail.pipeline;
    if (e.account === scope.account && e.region === scope.region) {
      const list = recent.get(pipeline) || [];
      list.unshift(e);
      recent.set(pipeline, list.slice(0, 12));
    }
    if (relevant(e.account, e.region, pipeline)) refreshSoon();
  });
  source.addEventListener("changed", (m) => {
    const [account, region, ...rest] = m.data.split("/");
    if (relevant(account, region, rest.join("/"))) refreshSoon();
  });
  source.addEventListener("resync", refreshSoon);
  // Other services' events and EventBridge's deliveries: only the activity page shows them.
  const onActivity = () => { if (route()[2] === ACTIVITY) refreshSoon(); };
  source.addEventListener("bus", onActivity);
  source.addEventListener("delivery", onActivity);
}

function start() {
  const form = document.getElementById("scope");
  const account = document.getElementById("scope-account");
  const region = document.getElementById("scope-region");
  account.value = scope.account;
  region.value = scope.region;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    scope.account = account.value.trim();
    scope.region = region.value.trim();
    localStorage.setItem("console.account", scope.account);
    localStorage.setItem("console.region", scope.region);
    recent.clear();
    draw();
  });
  window.addEventListener("hashchange", draw);
  follow();
  draw();
}

start();
