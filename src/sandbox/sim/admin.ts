// The sandbox's admin endpoint (`/admin/...` on the API server), JSON in and out:
//   GET  /admin/                  index of what is here
//   GET  /admin/faults            API fault settings + whether the controllers are paused
//   PUT|POST|PATCH /admin/faults  change some (`{"errorRate":0.2,"errorCodes":[503],"controllersPaused":true}`)
//   DELETE /admin/faults          back to no faults
//   GET  /admin/behaviour         the behaviour table (defaults, rules, overrides)
//   PUT|POST /admin/behaviour     `{"defaults":{...},"overrides":[{"marker":"-flaky","set":{"errorRate":0.3}}]}`
//   GET  /admin/clock             `{now, iso, speed, manual}`
//   POST /admin/clock             `{"advanceMs":60000}` (manual clocks only)
//   GET  /admin/traffic           rate and entry points; PUT `{"rps":50}`
import type http from 'node:http';
import { checkFaults, noFaults, resolveFaultResources, type Faults } from '../api/faults';
import { RESOURCES } from '../api/resources';
import { parseOverride, type BehaviourOverride } from './behaviour';
import type { Simulation } from './sim';
import { isManualClock } from './clock';

function send(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function problem(res: http.ServerResponse, code: number, message: string): void {
  send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: code === 404 ? 'NotFound' : code === 405 ? 'MethodNotAllowed' : 'BadRequest', code });
}

async function jsonBody(req: http.IncomingMessage): Promise<Record<string, unknown> | string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const v = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return 'request body: expected a JSON object';
    return v as Record<string, unknown>;
  } catch (e) {
    return `request body: invalid JSON (${(e as Error).message})`;
  }
}

export function faultsView(sim: Simulation): Faults & { controllersPaused: boolean } {
  return { ...sim.apiFaults, controllersPaused: sim.controllers.faults.paused };
}

/** Applies a partial fault configuration; returns the problems (nothing applied when there are any). */
export function applyFaults(sim: Simulation, body: Record<string, unknown>): string[] {
  const { controllersPaused, ...rest } = body;
  const known = new Set(Object.keys(noFaults()));
  const problems = checkFaults(rest as Partial<Record<keyof Faults, unknown>>);
  for (const k of Object.keys(rest)) if (!known.has(k)) problems.push(`${k}: unknown fault (known: ${[...known, 'controllersPaused'].join(', ')})`);
  if (Array.isArray(rest.resources) && rest.resources.every((r) => typeof r === 'string')) {
    const resolved = resolveFaultResources(rest.resources as string[], RESOURCES);
    problems.push(...resolved.problems);
    rest.resources = resolved.keys;
  }
  if (controllersPaused !== undefined && typeof controllersPaused !== 'boolean') problems.push(`controllersPaused: expected true or false, got ${JSON.stringify(controllersPaused)}`);
  if (problems.length) return problems;
  Object.assign(sim.apiFaults, rest);
  if (typeof controllersPaused === 'boolean') sim.controllers.setPaused(controllersPaused);
  return [];
}

export function createAdminHandler(sim: Simulation): (req: http.IncomingMessage, res: http.ServerResponse, path: string) => Promise<void> {
  return async (req, res, path) => {
    const method = req.method ?? 'GET';
    const p = path.replace(/\/+$/, '') || '/';
    const write = method === 'PUT' || method === 'POST' || method === 'PATCH';
    switch (p) {
      case '/':
        return send(res, 200, { endpoints: ['/admin/faults', '/admin/behaviour', '/admin/clock', '/admin/traffic'] });
      case '/faults': {
        if (method === 'GET') return send(res, 200, faultsView(sim));
        if (method === 'DELETE') {
          Object.assign(sim.apiFaults, noFaults());
          sim.controllers.setPaused(false);
          return send(res, 200, faultsView(sim));
        }
        if (!write) return problem(res, 405, `method ${method} not allowed on /admin/faults`);
        const body = await jsonBody(req);
        if (typeof body === 'string') return problem(res, 400, body);
        const problems = applyFaults(sim, body);
        if (problems.length) return problem(res, 400, `invalid faults: ${problems.join('; ')}`);
        return send(res, 200, faultsView(sim));
      }
      case '/behaviour': {
        if (method === 'GET') return send(res, 200, sim.behaviour.describe());
        if (!write) return problem(res, 405, `method ${method} not allowed on /admin/behaviour`);
        const body = await jsonBody(req);
        if (typeof body === 'string') return problem(res, 400, body);
        if (body.overrides !== undefined) {
          if (!Array.isArray(body.overrides)) return problem(res, 400, 'overrides: expected a list of {marker, set}');
          const parsed: BehaviourOverride[] = [];
          for (const [i, o] of body.overrides.entries()) {
            const r = parseOverride(o, `overrides[${i}]`);
            if (typeof r === 'string') return problem(res, 400, r);
            parsed.push(r);
          }
          sim.behaviour.setOverrides(parsed);
        }
        if (body.defaults !== undefined) {
          const r = parseOverride({ marker: '*', set: body.defaults }, 'defaults');
          if (typeof r === 'string') return problem(res, 400, r.replace('defaults.set', 'defaults'));
          sim.behaviour.setDefaults(r.set);
        }
        return send(res, 200, sim.behaviour.describe());
      }
      case '/clock': {
        const clock = sim.clock;
        const view = () => ({ now: clock.now(), iso: new Date(clock.now()).toISOString(), speed: clock.speed, manual: isManualClock(clock) });
        if (method === 'GET') return send(res, 200, view());
        if (method !== 'POST') return problem(res, 405, `method ${method} not allowed on /admin/clock`);
        const body = await jsonBody(req);
        if (typeof body === 'string') return problem(res, 400, body);
        if (!isManualClock(clock)) return problem(res, 400, 'the sandbox runs on a real clock (speed factor); only a manual clock can be advanced');
        const ms = body.advanceMs;
        if (typeof ms !== 'number' || !(ms >= 0)) return problem(res, 400, 'advanceMs: expected a number of milliseconds >= 0');
        await clock.advance(ms);
        return send(res, 200, view());
      }
      case '/traffic': {
        const view = () => ({ rps: sim.traffic.rps, entryPoints: sim.traffic.entryPoints() });
        if (method === 'GET') return send(res, 200, view());
        if (!write) return problem(res, 405, `method ${method} not allowed on /admin/traffic`);
        const body = await jsonBody(req);
        if (typeof body === 'string') return problem(res, 400, body);
        if (typeof body.rps !== 'number' || !(body.rps >= 0)) return problem(res, 400, 'rps: expected a number of requests per second >= 0');
        sim.setRps(body.rps);
        return send(res, 200, view());
      }
      default:
        return problem(res, 404, `no admin endpoint ${path} (see /admin/)`);
    }
  };
}
