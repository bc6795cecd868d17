// Jobs (Metronome): the jobs with their schedule and last run, "run now"; a job's detail
// (schedule, active runs with stop, history); create and edit through a JSON editor that
// places Metronome's 422 details by line. Routes: #/jobs, #/jobs/new, #/jobs/detail/<id>,
// #/jobs/edit/<id>. Metronome is asked again every few seconds while a list or a detail is
// open (the editor is not refreshed: it would overwrite what is typed).

import { get, post, refreshView, request, Unauthorized } from "../api.js";
import { h, uid } from "../dom.js";
import { jsonEditor } from "../jsoneditor.js";
import { editableJob, filterJobs, finishedRuns, jobRow } from "../model.js";
import { subRoute } from "../route.js";
import { badge, confirmDialog, dataTable, drawPaged, emptyState, filterForm, replaceKeepingFocus } from "../widgets.js";

const REFRESH_MS = 5000;
export const JOBS_API = "/service/metronome/v1/jobs";
const LIST_PATH = `${JOBS_API}?embed=activeRuns&embed=schedules&embed=historySummary`;
const NEW_JOB = { id: "", description: "", run: { cmd: "", cpus: 0.1, mem: 32, disk: 0 } };

const jobPath = (id) => `${JOBS_API}/${encodeURIComponent(id)}`;
const when = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace(/\+0000$|Z$/, " UTC") : "—");

export function render(main) {
  const route = subRoute();
  if (route.kind === "editor") return editor(main, route.id);
  if (route.kind === "detail") return detail(main, route.id);
  return list(main);
}

async function runNow(id, note, done) {
  if (!(await confirmDialog(`Run ${id} now?`, `Metronome starts a new run of ${id} at once.`, "Run now"))) return;
  try {
    const run = await post(`${jobPath(id)}/runs`, {});
    note.className = "form-ok";
    note.textContent = `Started run ${run?.id || ""} of ${id}.`;
  } catch (err) {
    if (err instanceof Unauthorized) return;
    note.className = "form-error";
    note.textContent = `Could not start ${id}: ${err.message}`;
  }
  done();
}

function list(main) {
  const view = { jobs: null, error: "", page: 1, text: "", last: "" };
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "job-count" });
  const note = h("p", { class: "form-error", role: "alert" });
  const body = h("div", {});
  main.append(
    h("div", { class: "title-row" }, h("h1", {}, "Jobs"), h("a", { href: "#/jobs/new", class: "button" }, "Create a job")),
    filterForm(
      "Filter jobs",
      "Job id or description",
      [["last", "Last run", [["Success", "Success"], ["Failed", "Failed"], ["Never run", "Never run"]]]],
      (values) => {
        Object.assign(view, values, { page: 1 });
        draw();
      },
    ),
    count,
    note,
    body,
  );

  const draw = () => {
    if (!view.jobs) {
      count.textContent = "";
      body.replaceChildren(emptyState(view.error ? "Metronome cannot be reached." : "Loading jobs…", view.error));
      return;
    }
    const all = view.jobs.map(jobRow);
    const rows = filterJobs(all, view.text, view.last);
    const shown = rows.length === all.length ? "" : `${rows.length} of `;
    count.textContent = `${shown}${all.length} job${all.length === 1 ? "" : "s"}${view.error ? ` · Metronome did not answer the last refresh: ${view.error}` : ""}`;
    if (!all.length) {
      body.replaceChildren(emptyState("No jobs yet.", "Create one to run a command once, now or on a schedule."));
      return;
    }
    if (!rows.length) {
      body.replaceChildren(emptyState("No job matches the filter."));
      return;
    }
    drawPaged(
      body,
      view,
      "Jobs",
      rows,
      (items) =>
        dataTable(
          "jobs-table",
          "Jobs",
          ["Job", "Schedule", "Last run", "Runs (ok / failed)", "Active", "Actions"],
          ["Runs (ok / failed)", "Active"],
          items.map((row) =>
            h(
              "tr",
              { "data-job-id": row.id },
              h("th", { scope: "row" }, h("a", { href: `#/jobs/detail/${encodeURIComponent(row.id)}` }, row.id), row.description ? h("div", { class: "sub" }, row.description) : null),
              h("td", {}, row.schedule ? [h("span", { class: "mono" }, row.schedule), row.nextRunAt ? h("div", { class: "sub" }, `next ${when(row.nextRunAt)}`) : null] : h("span", { class: "sub" }, "—")),
              h("td", { "data-testid": "last-run" }, badge(row.last)),
              h("td", { class: "num" }, `${row.successes} / ${row.failures}`),
              h("td", { class: "num", "data-testid": "active-runs" }, String(row.active)),
              h("td", {}, h("button", { type: "button", class: "secondary", "data-key": row.id, "aria-label": `Run ${row.id} now`, onclick: () => runNow(row.id, note, refresh.now) }, "Run now")),
            ),
          ),
        ),
      draw,
    );
  };

  const refresh = refreshView(
    REFRESH_MS,
    view,
    async () => {
      view.jobs = await get(LIST_PATH);
    },
    draw,
  );
  draw();
  return refresh.stop;
}

function section(title, wide, ...content) {
  const id = uid("section");
  return h("section", { class: `panel${wide ? " wide" : ""}`, "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

function detail(main, id) {
  const view = { job: null, error: "", missing: false };
  const note = h("p", { class: "form-error", role: "alert" });
  const body = h("div", { class: "job-detail" });
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "Jobs"), " / ", id),
    h(
      "div",
      { class: "title-row" },
      h("h1", {}, id),
      h("button", { type: "button", onclick: () => runNow(id, note, refresh.now) }, "Run now"),
      h("a", { href: `#/jobs/edit/${encodeURIComponent(id)}`, class: "button secondary" }, "Edit"),
    ),
    note,
    body,
  );

  const stopRun = async (run) => {
    if (!(await confirmDialog(`Stop run ${run.id}?`, `Metronome kills the run's tasks; the run is recorded as failed.`, "Stop run"))) return;
    try {
      await post(`${jobPath(id)}/runs/${encodeURIComponent(run.id)}/actions/stop`, {});
      note.className = "form-ok";
      note.textContent = `Stopping run ${run.id}.`;
    } catch (err) {
      if (err instanceof Unauthorized) return;
      note.className = "form-error";
      note.textContent = `Could not stop run ${run.id}: ${err.message}`;
    }
    refresh.now();
  };

  const draw = () => {
    if (!view.job || view.missing) {
      body.replaceChildren(emptyState(view.missing ? `No job ${id}.` : view.error ? "Metronome cannot be reached." : "Loading the job…", view.missing ? "" : view.error));
      return;
    }
    const job = view.job;
    const schedules = job.schedules || [];
    const active = job.activeRuns || [];
    const runs = finishedRuns(job.history);
    const run = job.run || {};
    replaceKeepingFocus(body, [
      section(
        "Job",
        false,
        h(
          "dl",
          { class: "counts" },
          h("dt", {}, "Description"),
          h("dd", {}, job.description || "—"),
          h("dt", {}, "Command"),
          h("dd", { class: "mono" }, run.cmd || (run.args || []).join(" ") || "—"),
          h("dt", {}, "Resources"),
          h("dd", {}, `${run.cpus} CPU · ${run.mem} MiB · ${run.disk || 0} MiB disk`),
        ),
      ),
      section(
        "Schedule",
        false,
        schedules.length
          ? h(
              "dl",
              { class: "counts", "data-testid": "schedule" },
              schedules.map((s) => [
                h("dt", {}, "Cron"),
                h("dd", { class: "mono" }, `${s.cron} (${s.timezone || "UTC"})`),
                h("dt", {}, "Enabled"),
                h("dd", {}, s.enabled === false ? "no" : "yes"),
                h("dt", {}, "Next run"),
                h("dd", {}, when(s.nextRunAt)),
                h("dt", {}, "Concurrency"),
                h("dd", {}, s.concurrencyPolicy || "ALLOW"),
              ]),
            )
          : emptyState("No schedule.", "This job runs only when started."),
      ),
      section(
        "Active runs",
        true,
        active.length
          ? dataTable(
              "active-runs-table",
              "",
              ["Run", "Status", "Started", "Tasks", "Actions"],
              [],
              active.map((r) =>
                h(
                  "tr",
                  { "data-run-id": r.id },
                  h("th", { scope: "row", class: "mono" }, r.id),
                  h("td", {}, badge(r.status)),
                  h("td", { class: "when" }, when(r.createdAt)),
                  h("td", {}, (r.tasks || []).map((t) => `${t.id} ${t.status}`).join(", ") || "—"),
                  h("td", {}, h("button", { type: "button", class: "secondary", "data-key": r.id, "aria-label": `Stop run ${r.id}`, onclick: () => stopRun(r) }, "Stop")),
                ),
              ),
            )
          : emptyState("No active runs."),
      ),
      section(
        "History",
        true,
        h("p", { class: "sub", "data-testid": "history-summary" }, `${job.history?.successCount || 0} succeeded · ${job.history?.failureCount || 0} failed`),
        runs.length
          ? dataTable(
              "history-table",
              "",
              ["Run", "Result", "Started", "Finished"],
              [],
              runs.map((r) => h("tr", { "data-run-id": r.id }, h("th", { scope: "row", class: "mono" }, r.id), h("td", {}, badge(r.status)), h("td", { class: "when" }, when(r.createdAt)), h("td", { class: "when" }, when(r.finishedAt)))),
            )
          : emptyState("No finished runs yet."),
      ),
    ]);
  };

  const refresh = refreshView(
    REFRESH_MS,
    view,
    async () => {
      view.job = await get(`${jobPath(id)}?embed=activeRuns&embed=schedules&embed=history`);
    },
    draw,
  );
  draw();
  return refresh.stop;
}

function editor(main, id) {
  const creating = !id;
  const help = creating
    ? "Metronome's JobSpec: id, description, labels, run (cmd, cpus, mem, disk, …) and optionally schedules."
    : "Metronome's JobSpec: id, description, labels and run. Saving changes the job; its schedule is kept as it is.";
  const json = jsonEditor("job", "Job definition (JSON)", help, 18);
  const { text, message } = json;
  text.disabled = !creating;
  const save = h("button", { type: "submit", disabled: !creating }, creating ? "Create job" : "Save job");

  const submit = async (event) => {
    event.preventDefault();
    json.clear();
    const doc = json.parse();
    if (!doc) return;
    save.disabled = true;
    try {
      const saved = creating ? await post(JOBS_API, doc) : await request("PUT", jobPath(id), doc);
      location.hash = `#/jobs/detail/${encodeURIComponent(saved?.id || id || doc.id)}`;
      return;
    } catch (err) {
      if (err instanceof Unauthorized) return;
      json.refused("Metronome refused the job", err);
    } finally {
      save.disabled = false;
    }
  };

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/jobs" }, "Jobs"), " / ", creating ? "New job" : id),
    h("h1", {}, creating ? "Create a job" : `Edit ${id}`),
    h(
      "form",
      { class: "job-editor app-editor", onsubmit: submit, "aria-label": creating ? "Create a job" : `Edit ${id}` },
      json.field,
      h("div", { class: "dialog-buttons" }, h("a", { href: creating ? "#/jobs" : `#/jobs/detail/${encodeURIComponent(id)}`, class: "button secondary" }, "Cancel"), save),
    ),
  );

  if (creating) {
    text.value = JSON.stringify(NEW_JOB, null, 2);
  } else {
    get(jobPath(id))
      .then((job) => {
        text.value = JSON.stringify(editableJob(job), null, 2);
        text.disabled = false;
        save.disabled = false;
      })
      .catch((err) => {
        if (!(err instanceof Unauthorized)) message.textContent = `Could not load ${id}: ${err.message}`;
      });
  }
  // After the router's focus on <main>: the editor is where the keyboard starts.
  const focusTimer = setTimeout(() => text.focus(), 0);
  return () => clearTimeout(focusTimer);
}
