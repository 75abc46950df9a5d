// client.mjs drives a hordebot AI Horde v2 API with the real npm client
// @zeldafan0225/ai_horde, using only its public API, and prints a JSON
// summary of what it saw on stdout. It exits non-zero if any answer does not
// have the shape or value the library's users rely on.
//
// It is run by horde/api/compat_test.go (TestNPMClientCompat), which starts
// the server and workers and passes, in the environment:
//
//   HORDE_API_ROUTE  the API root including /api/v2, e.g. http://127.0.0.1:PORT/api/v2
//   HORDE_KEY        the API key of a user with kudos to spend and give
//   HORDE_OTHER_KEY  the API key of a second user, who receives a transfer
//   HORDE_MOD_KEY    the API key of a moderator
//   HORDE_TIMEOUT_MS optional overall deadline (default 60000)
import { AIHorde, APIError, RequestSingleWarningCodes } from "@zeldafan0225/ai_horde";

const route = requireEnv("HORDE_API_ROUTE");
const key = requireEnv("HORDE_KEY");
const otherKey = requireEnv("HORDE_OTHER_KEY");
const modKey = requireEnv("HORDE_MOD_KEY");
const deadline = Date.now() + Number(process.env.HORDE_TIMEOUT_MS || 60000);

const TRANSFER = 5;
const IMAGES = 2;

// Caching off: every call reaches the server, and polling sees progress.
// With no cache the library starts no sweep timers that would keep node alive.
const horde = new AIHorde({
  api_route: route,
  client_agent: "hordebot-compat:1.0.0:https://github.com/hordebot/hordebot",
  cache: {
    users: 0, generations_check: 0, generations_status: 0, interrogations_status: 0,
    models: 0, modes: 0, news: 0, performance: 0, workers: 0, teams: 0, sharedkeys: 0,
  },
});

const summary = { ok: false, failures: [] };

function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`client.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

// expect records a failed expectation; the run goes on so that one summary
// shows every mismatch.
function expect(cond, what, got) {
  if (!cond) summary.failures.push(got === undefined ? what : `${what} (got ${JSON.stringify(got)})`);
  return cond;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// poll calls fn until it answers done, or fails at the deadline.
async function poll(what, fn) {
  for (;;) {
    const v = await fn();
    if (v.done || v.faulted) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not done before the deadline: ${JSON.stringify(v)}`);
    await sleep(25);
  }
}

// expectAPIError runs fn, which must throw the library's APIError with status.
async function expectAPIError(what, status, fn) {
  try {
    const v = await fn();
    expect(false, `${what}: want APIError ${status}, got a success`, v);
    return null;
  } catch (err) {
    if (!expect(err instanceof APIError, `${what}: want APIError, got ${err?.constructor?.name}: ${err?.message}`)) return null;
    expect(err.status === status, `${what}: status`, err.status);
    expect(typeof err.error_code === "string" && err.error_code !== "", `${what}: error_code (rc)`, err.error_code);
    expect(typeof err.message === "string" && err.message !== "", `${what}: message`, err.message);
    return { status: err.status, rc: err.error_code, message: err.message };
  }
}

// imageKind names an image format from its first bytes, or "" if none.
function imageKind(b) {
  const ascii = (from, to) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 4) === "PNG") return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  return "";
}

async function users() {
  const me = await horde.findUser({ token: key });
  expect(typeof me.id === "number", "findUser: id is a number", me.id);
  expect(typeof me.username === "string" && me.username.endsWith(`#${me.id}`), "findUser: username is name#id", me.username);
  expect(typeof me.kudos === "number", "findUser: kudos is a number", me.kudos);
  // fields: the library sends X-Fields; an answer with more fields is fine.
  const some = await horde.findUser({ token: key, fields: ["id", "username"] });
  expect(some.id === me.id && some.username === me.username, "findUser with fields: id and username", some);
  const details = await horde.getUserDetails(me.id, { token: key, force: true });
  expect(details.id === me.id && details.username === me.username, "getUserDetails: same user as findUser", details);
  expect(Array.isArray(details.worker_ids), "getUserDetails: worker_ids is an array", details.worker_ids);
  summary.user = { id: me.id, username: me.username, kudos: me.kudos };
  return me;
}

async function image() {
  const req = await horde.postAsyncImageGenerate({
    prompt: "a lighthouse at dusk ### blurry",
    params: { width: 256, height: 256, steps: 10, n: IMAGES, sampler_name: "k_euler", cfg_scale: 7 },
    r2: true,
    nsfw: false,
  }, { token: key });
  expect(typeof req.id === "string" && req.id !== "", "postAsyncImageGenerate: id", req.id);
  expect(typeof req.kudos === "number", "postAsyncImageGenerate: kudos is a number", req.kudos);

  const first = await horde.getImageGenerationCheck(req.id, { force: true });
  for (const f of ["finished", "processing", "restarted", "waiting", "wait_time", "queue_position", "kudos"]) {
    expect(typeof first[f] === "number", `getImageGenerationCheck: ${f} is a number`, first[f]);
  }
  for (const f of ["done", "faulted", "is_possible"]) {
    expect(typeof first[f] === "boolean", `getImageGenerationCheck: ${f} is a boolean`, first[f]);
  }
  const check = await poll("image", () => horde.getImageGenerationCheck(req.id, { force: true }));
  expect(check.done === true && check.faulted === false, "getImageGenerationCheck: done, not faulted", check);
  expect(check.finished === IMAGES, "getImageGenerationCheck: finished", check.finished);

  const status = await horde.getImageGenerationStatus(req.id, { force: true });
  const gens = status.generations ?? [];
  expect(status.done === true, "getImageGenerationStatus: done", status.done);
  expect(gens.length === IMAGES, "getImageGenerationStatus: generations", gens.length);
  const out = { id: req.id, kudos: req.kudos, finished: check.finished, generations: [] };
  for (const g of gens) {
    expect(typeof g.img === "string" && /^https?:\/\//.test(g.img), "generation: img is a URL (r2)", g.img);
    expect(typeof g.seed === "string" && g.seed !== "", "generation: seed is a string", g.seed);
    expect(typeof g.id === "string" && g.id !== "", "generation: id", g.id);
    expect(g.censored === false, "generation: censored", g.censored);
    expect(typeof g.worker_id === "string" && g.worker_id !== "", "generation: worker_id", g.worker_id);
    expect(typeof g.worker_name === "string" && g.worker_name !== "", "generation: worker_name", g.worker_name);
    expect(typeof g.model === "string" && g.model !== "", "generation: model", g.model);
    out.generations.push({ id: g.id, seed: g.seed, worker_name: g.worker_name, model: g.model, img: g.img });
  }
  if (gens.length > 0) {
    const res = await fetch(gens[0].img);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.ok, "image download: HTTP status", res.status);
    out.download = { status: res.status, bytes: body.length, format: imageKind(body), content_type: res.headers.get("content-type") };
    expect(out.download.format !== "", "image download: a WebP, PNG or JPEG", Array.from(body.subarray(0, 12)));
  }
  summary.image = out;
}

async function text() {
  const req = await horde.postAsyncTextGenerate({
    prompt: "Once upon a time",
    params: { max_length: 32, max_context_length: 512, n: 1, temperature: 0.7 },
  }, { token: key });
  expect(typeof req.id === "string" && req.id !== "", "postAsyncTextGenerate: id", req.id);
  const status = await poll("text", () => horde.getTextGenerationStatus(req.id, { force: true }));
  const gens = status.generations ?? [];
  expect(status.done === true && status.faulted === false, "getTextGenerationStatus: done, not faulted", status);
  expect(gens.length === 1, "getTextGenerationStatus: generations", gens.length);
  const g = gens[0] ?? {};
  expect(typeof g.text === "string" && g.text !== "", "text generation: text", g.text);
  expect(typeof g.seed === "number", "text generation: seed is a number", g.seed);
  expect(g.state === "ok", "text generation: state", g.state);
  expect(typeof g.worker_name === "string" && g.worker_name !== "", "text generation: worker_name", g.worker_name);
  summary.text = { id: req.id, kudos: req.kudos, text: g.text, seed: g.seed, worker_name: g.worker_name, model: g.model };
}

async function status() {
  expect((await horde.getHeartbeat()) === true, "getHeartbeat");
  const models = await horde.getModels({ force: true });
  expect(Array.isArray(models), "getModels: an array", models);
  for (const m of models) {
    expect(typeof m.name === "string" && typeof m.count === "number", "getModels: name and count", m);
  }
  const perf = await horde.getPerformance({ force: true });
  for (const f of ["queued_requests", "worker_count", "thread_count", "queued_megapixelsteps", "past_minute_megapixelsteps"]) {
    expect(typeof perf[f] === "number", `getPerformance: ${f} is a number`, perf[f]);
  }
  const workers = await horde.getWorkers();
  expect(Array.isArray(workers), "getWorkers: an array", workers);
  summary.models = models.map((m) => ({ name: m.name, count: m.count, type: m.type }));
  summary.performance = { worker_count: perf.worker_count, text_worker_count: perf.text_worker_count, queued_requests: perf.queued_requests };
  summary.workers = workers.map((w) => w.name).sort();
}

// unservable asks for a model no worker serves: the answer warns with the
// library's NoAvailableWorker code, and the request can be cancelled.
async function unservable() {
  const req = await horde.postAsyncImageGenerate({
    prompt: "a model nobody serves", models: ["no_such_model"], params: { width: 64, height: 64, steps: 1 },
  }, { token: key });
  const codes = (req.warnings ?? []).map((w) => w.code);
  expect(codes.includes(RequestSingleWarningCodes.NoAvailableWorker), "postAsyncImageGenerate: NoAvailableWorker warning", req.warnings);
  const check = await horde.getImageGenerationCheck(req.id, { force: true });
  expect(check.done === false && check.waiting === 1, "unservable request waits", check);
  const cancelled = await horde.deleteImageGenerationRequest(req.id);
  expect(Array.isArray(cancelled.generations) && cancelled.generations.length === 0, "deleteImageGenerationRequest: no generations", cancelled);
  const after = await horde.getImageGenerationCheck(req.id, { force: true });
  expect(after.waiting === 0 && after.processing === 0, "cancelled request no longer waits", after);
  summary.unservable = { id: req.id, warning_codes: codes, after_cancel: { done: after.done, faulted: after.faulted, waiting: after.waiting } };
}

async function transfer(me) {
  const other = await horde.findUser({ token: otherKey });
  const res = await horde.postKudosTransfer({ username: other.username, amount: TRANSFER }, { token: key });
  expect(res.transferred === TRANSFER, "postKudosTransfer: transferred", res);
  const after = await horde.findUser({ token: otherKey });
  const meAfter = await horde.findUser({ token: key });
  expect(after.kudos === other.kudos + TRANSFER, "postKudosTransfer: receiver's kudos", { before: other.kudos, after: after.kudos });
  expect(meAfter.kudos < me.kudos, "postKudosTransfer: giver's kudos went down", { before: me.kudos, after: meAfter.kudos });
  summary.transfer = {
    to: other.username, transferred: res.transferred,
    receiver_before: other.kudos, receiver_after: after.kudos, giver_after: meAfter.kudos,
  };
}

async function errors() {
  const missing = "00000000-0000-4000-8000-000000000000";
  summary.errors = {
    async_bad_key: await expectAPIError("postAsyncImageGenerate with a bad key", 401, () =>
      horde.postAsyncImageGenerate({ prompt: "x", params: { width: 64, height: 64, steps: 1 } }, { token: "not-a-real-key-123" })),
    find_user_bad_key: await expectAPIError("findUser with a bad key", 404, () =>
      horde.findUser({ token: "not-a-real-key-123" })),
    check_unknown: await expectAPIError("getImageGenerationCheck of an unknown id", 404, () =>
      horde.getImageGenerationCheck(missing, { force: true })),
    text_status_unknown: await expectAPIError("getTextGenerationStatus of an unknown id", 404, () =>
      horde.getTextGenerationStatus(missing, { force: true })),
    transfer_unknown_user: await expectAPIError("postKudosTransfer to an unknown user", 404, () =>
      horde.postKudosTransfer({ username: "nobody#999999", amount: 1 }, { token: key })),
    transfer_too_much: await expectAPIError("postKudosTransfer of more than the balance", 400, () =>
      horde.postKudosTransfer({ username: summary.transfer?.to ?? "nobody#999999", amount: 1_000_000_000 }, { token: key })),
  };
}

// admin drives the user and worker routes: the users list, a moderator's
// PUT /users/{id}, and a worker the client itself creates by popping, which
// it reads, changes and deletes as its owner.
async function admin(me) {
  const all = await horde.getUsers();
  expect(Array.isArray(all) && all.some((u) => u.id === me.id && u.username === me.username), "getUsers: lists the user", all);
  const mod = await horde.updateUser({ trusted: true }, me.id, { token: modKey });
  expect(mod.trusted === true, "updateUser: trusted", mod);
  const after = await horde.getUserDetails(me.id, { token: key, force: true });
  expect(after.trusted === true, "updateUser: the user is trusted after", after.trusted);

  const rig = "compat-client-rig";
  const pop = await horde.postImageGenerationPop({ name: rig, models: ["no_such_model"], max_pixels: 262144, nsfw: false, amount: 1 }, { token: key });
  expect(pop.id === null && Array.isArray(pop.ids) && pop.ids.length === 0, "postImageGenerationPop: no job", pop);
  expect(typeof pop.skipped === "object" && pop.skipped !== null, "postImageGenerationPop: skipped is an object", pop.skipped);
  expect(Array.isArray(pop.messages), "postImageGenerationPop: messages is an array", pop.messages);
  const textPop = await horde.postTextGenerationPop({ name: rig + "-text", models: ["no_such_text_model"], max_length: 80, max_context_length: 1024, amount: 1 }, { token: key });
  expect(textPop.id === null && Array.isArray(textPop.ids) && Array.isArray(textPop.messages), "postTextGenerationPop: no job", textPop);
  const mine = (await horde.getWorkers()).find((w) => w.name === rig);
  if (!expect(mine !== undefined, "getWorkers: the popped worker is listed")) return;
  const details = await horde.getWorkerDetails(mine.id, { token: key, force: true });
  expect(details.id === mine.id && details.name === rig && details.type === "image", "getWorkerDetails: id, name, type", details);
  expect(typeof details.online === "boolean" && typeof details.max_pixels === "number", "getWorkerDetails: online, max_pixels", details);
  const changed = await horde.updateWorker({ info: "a compat rig", maintenance: true }, mine.id, { token: key });
  expect(changed.info === "a compat rig" && changed.maintenance === true, "updateWorker: info and maintenance", changed);
  const deleted = await horde.deleteWorker(mine.id, { token: key });
  expect(deleted.deleted_id === mine.id && deleted.deleted_name === rig, "deleteWorker: deleted_id and deleted_name", deleted);
  summary.admin = { trusted: after.trusted, worker_changed: changed, worker_deleted: deleted };
}

// statusAndStats reads the status and statistics routes.
async function statusAndStats() {
  // The library always sends a key here (the anonymous one when given
  // none), and the AI Horde answers a key that is not a moderator's with
  // 403 NotModerator: only a moderator's call succeeds, as there.
  const modes = await horde.getModes({ token: modKey, force: true });
  expect(typeof modes.maintenance_mode === "boolean" && typeof modes.invite_only_mode === "boolean" && typeof modes.raid_mode === "boolean", "getModes: the three modes", modes);
  await expectAPIError("getModes as a member", 403, () => horde.getModes({ token: key, force: true }));
  const set = await horde.putStatusModes({ maintenance: false, shutdown: 0, invite_only: true, raid: false }, { token: modKey });
  expect(set.invite_only_mode === true && set.maintenance_mode === false, "putStatusModes: invite_only set", set);
  await expectAPIError("putStatusModes as a member", 403, () => horde.putStatusModes({ maintenance: true, shutdown: 0, invite_only: false, raid: false }, { token: key }));
  await horde.putStatusModes({ maintenance: false, shutdown: 0, invite_only: false, raid: false }, { token: modKey });
  const team = await horde.createTeam({ name: "compat team", info: "made by the npm client" }, { token: modKey });
  expect(typeof team.id === "string" && team.name === "compat team", "createTeam: id and name", team);
  const teams = await horde.getTeams({ force: true });
  expect(Array.isArray(teams) && teams.some((t) => t.id === team.id), "getTeams: the new team is listed", teams);
  const one = await horde.getTeam(team.id, { force: true });
  expect(one.id === team.id && one.name === "compat team", "getTeam: id and name", one);
  const renamed = await horde.updateTeam({ info: "renamed by the npm client" }, team.id, { token: modKey });
  expect(renamed.info === "renamed by the npm client", "updateTeam: info", renamed);
  const gone = await horde.deleteTeam(team.id, { token: modKey });
  expect(gone.deleted_id === team.id, "deleteTeam: deleted_id", gone);
  summary.teams = { created: team, renamed, deleted: gone };
  const news = await horde.getNews({ force: true });
  expect(Array.isArray(news) && news.every((n) => typeof n.newspiece === "string" && typeof n.date_published === "string"), "getNews: newspieces", news);
  const model = await horde.getModel(summary.image?.generations?.[0]?.model ?? "none");
  expect(Array.isArray(model) && model.length === 1 && model[0].count >= 1, "getModel: the served model", model);
  const imgTotals = await horde.getImageTotalStats();
  expect(imgTotals.total?.images >= IMAGES && typeof imgTotals.minute?.ps === "number", "getImageTotalStats: total images", imgTotals);
  const imgModels = await horde.getImageModelStats();
  expect(typeof imgModels.total === "object" && Object.values(imgModels.total).some((n) => n >= IMAGES), "getImageModelStats: total per model", imgModels);
  const textTotals = await horde.getTextTotalStats();
  expect(textTotals.total?.requests >= 1 && typeof textTotals.total?.tokens === "number", "getTextTotalStats: total requests", textTotals);
  const textModels = await horde.getTextModelStats();
  expect(typeof textModels.day === "object" && typeof textModels.total === "object", "getTextModelStats: day and total", textModels);
  summary.stats = { image_total: imgTotals.total, text_total: textTotals.total, model: model[0]?.name, news: news.length };
}

// moderation drives the moderators' routes the library has: the prompt
// filter's lists and check, and lifting an IP timeout.
async function moderation() {
  const filters = await horde.getFilters({}, { token: modKey });
  expect(Array.isArray(filters) && filters.length > 0 && filters.every((f) => typeof f.regex === "string" && typeof f.filter_type === "number"), "getFilters: regex and filter_type", filters);
  const check = await horde.postFilters({ prompt: "a cat on a sofa" }, { token: modKey });
  expect(Array.isArray(check.matches) && check.suspicion !== undefined, "postFilters: suspicion and matches", check);
  const notMod = await expectAPIError("getFilters as a member", 403, () => horde.getFilters({}, { token: key }));
  const single = await horde.getFilter(filters[0].id, { token: modKey });
  expect(single.id === filters[0].id && single.regex === filters[0].regex, "getFilter: the listed filter", single);
  const unknownFilter = await expectAPIError("getFilter of an unknown id", 404, () => horde.getFilter("no-such-filter", { token: modKey }));
  expect(unknownFilter?.rc === "FilterNotFound", "getFilter of an unknown id: FilterNotFound", unknownFilter);
  // hordebot's filter lists are config terms: the edits are 405.
  await expectAPIError("addFilter", 405, () => horde.addFilter({ regex: "x", filter_type: 10 }, { token: modKey }));
  await expectAPIError("updateFilter", 405, () => horde.updateFilter({ regex: "x" }, filters[0].id, { token: modKey }));
  await expectAPIError("deleteFilter", 405, () => horde.deleteFilter(filters[0].id, { token: modKey }));
  const lifted = await horde.deleteIPTimeout({ ipaddr: "203.0.113.7" }, { token: modKey });
  expect(lifted.message === "OK", "deleteIPTimeout: OK", lifted);
  summary.moderation = { filters: filters.length, check, not_moderator: notMod };
}

// sharedKeys creates, reads, changes and deletes a shared key.
async function sharedKeys() {
  const made = await horde.putSharedKey({ name: "compat key", kudos: 100, max_image_steps: 30 }, { token: key });
  expect(typeof made.id === "string" && made.id !== "" && made.kudos === 100 && made.name === "compat key", "putSharedKey: id, name, kudos", made);
  const read = await horde.getSharedKey(made.id);
  expect(read.id === made.id && read.max_image_steps === 30, "getSharedKey: same key", read);
  const changed = await horde.updateSharedKey({ kudos: 50 }, made.id, { token: key });
  expect(changed.kudos === 50, "updateSharedKey: kudos", changed);
  const gone = await horde.deleteSharedKey(made.id, { token: key });
  expect(gone.message === "OK", "deleteSharedKey: OK", gone);
  const missing = await expectAPIError("getSharedKey after delete", 404, () => horde.getSharedKey(made.id));
  summary.sharedkeys = { created: made.kudos, changed: changed.kudos, after_delete: missing };
}

// rating rates a shared request's images once they are done.
async function rating() {
  const req = await horde.postAsyncImageGenerate({
    prompt: "a shared lighthouse", params: { width: 256, height: 256, steps: 10, n: 2 }, shared: true, r2: true,
  }, { token: key });
  await poll("shared image", () => horde.getImageGenerationCheck(req.id, { force: true }));
  const status = await horde.getImageGenerationStatus(req.id, { force: true });
  const gens = status.generations ?? [];
  if (!expect(gens.length === 2, "shared request: two generations", gens.length)) return;
  const res = await horde.postRating(req.id, {
    best: gens[0].id, ratings: [{ id: gens[0].id, rating: 8, artifacts: 1 }, { id: gens[1].id, rating: 5 }],
  }, { token: key });
  expect(typeof res.reward === "number" && res.reward > 0, "postRating: reward", res);
  const again = await expectAPIError("postRating twice", 400, () => horde.postRating(req.id, { best: gens[0].id }, { token: key }));
  summary.rating = { reward: res.reward, again };
}

// cancelText cancels a text request nobody serves.
async function cancelText() {
  const req = await horde.postAsyncTextGenerate({
    prompt: "nobody serves this", models: ["no_such_text_model"], params: { max_length: 32, max_context_length: 512 },
  }, { token: key });
  const cancelled = await horde.deleteTextGenerationRequest(req.id);
  expect(Array.isArray(cancelled.generations) && cancelled.generations.length === 0 && cancelled.done === false, "deleteTextGenerationRequest: nothing generated", cancelled);
  summary.cancel_text = { id: req.id, waiting: cancelled.waiting };
}

async function main() {
  const me = await users();
  await image();
  await text();
  await status();
  await unservable();
  await transfer(me);
  await errors();
  await admin(me);
  await statusAndStats();
  await moderation();
  await sharedKeys();
  await rating();
  await cancelText();
}

const timer = setTimeout(() => {
  summary.failures.push("overall deadline passed");
  finish();
}, Math.max(deadline - Date.now(), 0) + 5000);

function finish() {
  clearTimeout(timer);
  summary.ok = summary.failures.length === 0;
  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  process.exit(summary.ok ? 0 : 1);
}

main().then(finish, (err) => {
  const detail = err instanceof APIError
    ? `APIError ${err.status} ${err.method} ${err.url}: ${err.error_code}: ${err.message}`
    : (err?.stack ?? String(err));
  summary.failures.push(`unexpected error: ${detail}`);
  finish();
});
