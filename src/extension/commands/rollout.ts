// The rollout actions: start (multi-step pipeline → environment → image), promote, promote fully,
// abort, pause, resume, retry. One path for all of them: resolve the target (argument or QuickPick),
// refuse in Restricted Mode, ask for the typed name on protected environments, then call the engine
// under a progress notification until it acknowledges, log the outcome, and return the result (host
// tests assert on it and on the cluster).
import * as vscode from 'vscode';
import type { ActionOptions, ActionResult } from '../../engine/api';
import type { RolloutAction } from '../../engine/snapshot';
import type { Pipeline } from '../../deployfile/model';
import { getRolloutService } from '../services';
import { resolveTarget, targetKey, targetLabel, toTargetRef, type ResolvedTarget } from '../model/targets';
import { mergedStatus } from '../model/status';
import { validateImage } from '../model/validation';
import { isTrusted, refuseUntrusted } from '../trust';
import { confirmProtected } from './confirm';
import type { CommandContext } from './context';
import { pickTarget } from './pick';
import { BACK, prompts } from './prompts';

/** What a command returns: the engine's result, or why nothing was sent. */
export type CommandOutcome = ActionResult | { ok: false; code: 'cancelled' | 'untrusted' | 'noTarget'; message: string };

export const ACTION_VERBS: Record<RolloutAction, { title: string; verb: string; past: string }> = {
  start: { title: 'Start Rollout', verb: 'start a rollout of', past: 'started' },
  promote: { title: 'Promote', verb: 'promote', past: 'promoted' },
  promoteFull: { title: 'Promote Fully', verb: 'fully promote', past: 'fully promoted' },
  abort: { title: 'Abort', verb: 'abort', past: 'aborted' },
  pause: { title: 'Pause', verb: 'pause', past: 'paused' },
  resume: { title: 'Resume', verb: 'resume', past: 'resumed' },
  retry: { title: 'Retry', verb: 'retry', past: 'retried' },
};

export const ACTION_COMMANDS: Record<RolloutAction, string> = {
  start: 'kubeDelivery.startRollout',
  promote: 'kubeDelivery.promote',
  promoteFull: 'kubeDelivery.promoteFull',
  abort: 'kubeDelivery.abort',
  pause: 'kubeDelivery.pause',
  resume: 'kubeDelivery.resume',
  retry: 'kubeDelivery.retry',
};

export function registerRolloutCommands(ctx: CommandContext): vscode.Disposable[] {
  const subs: vscode.Disposable[] = [];
  for (const action of Object.keys(ACTION_COMMANDS) as RolloutAction[]) {
    subs.push(
      vscode.commands.registerCommand(ACTION_COMMANDS[action], (arg?: unknown) =>
        action === 'start' ? startRollout(ctx, arg) : runAction(ctx, action, arg),
      ),
    );
  }
  return subs;
}

async function resolveArg(ctx: CommandContext, arg: unknown, action: RolloutAction): Promise<ResolvedTarget | undefined> {
  const ref = toTargetRef(arg);
  if (!ref) return pickTarget(ctx, action, `Kube Delivery: ${ACTION_VERBS[action].title}`);
  await ctx.index.ready();
  const t = resolveTarget(ctx.index.pipelines(), ref);
  if (!t) {
    const msg = `No pipeline "${ref.pipeline}" with an environment "${ref.environment}" in ${ref.file ? vscode.workspace.asRelativePath(ref.file) : 'the workspace'}.`;
    ctx.log.warn(msg);
    void vscode.window.showWarningMessage(msg);
  }
  return t;
}

export async function runAction(ctx: CommandContext, action: RolloutAction, arg: unknown, extra: ActionOptions = {}): Promise<CommandOutcome> {
  const target = await resolveArg(ctx, arg, action);
  if (!target) return { ok: false, code: 'noTarget', message: 'no target chosen' };
  return perform(ctx, target, action, extra);
}

/** Multi-step start: pipeline → environment → image (prefilled from the deploy file). */
export async function startRollout(ctx: CommandContext, arg: unknown): Promise<CommandOutcome> {
  const ref = toTargetRef(arg);
  await ctx.index.ready();
  let target: ResolvedTarget | undefined;
  let pipeline: Pipeline | undefined;
  if (ref) {
    target = resolveTarget(ctx.index.pipelines(), ref);
    if (!target) return runAction(ctx, 'start', arg); // reports the unknown target
  } else {
    const pipelines = ctx.index.pipelines();
    if (!pipelines.length) {
      void vscode.window.showInformationMessage('No deploy file in this workspace. Create one with "Kube Delivery: Create Deploy File".');
      return { ok: false, code: 'noTarget', message: 'no deploy file' };
    }
  }
  const title = 'Kube Delivery: Start Rollout';
  const total = ref ? 1 : 3;
  let step = ref ? 3 : 1;
  while (step <= 3) {
    if (step === 1) {
      const pipelines = ctx.index.pipelines();
      const answer = await prompts().pick(
        pipelines.map((p) => ({ label: p.name, description: `${p.strategy.type} · ${p.image}`, detail: vscode.workspace.asRelativePath(p.file), p })),
        { title, step: 1, totalSteps: total, placeholder: 'Pipeline to roll out' },
      );
      if (!answer || answer === BACK) return cancelled();
      pipeline = answer.p;
      step = 2;
    } else if (step === 2) {
      const p = pipeline!;
      const answer = await prompts().pick(
        p.environments.map((e) => {
          const s = ctx.store.get(targetKey({ file: p.file, pipeline: p.name, environment: e.name }));
          return {
            label: e.name,
            description: `${e.protected ? '$(lock) ' : ''}${e.context} · ${e.namespace}${s ? ` · ${mergedStatus(s).description}` : ''}`,
            e,
          };
        }),
        { title, step: 2, totalSteps: total, placeholder: `Environment for ${p.name}` },
      );
      if (answer === BACK) {
        step = 1;
        continue;
      }
      if (!answer) return cancelled();
      target = resolveTarget(ctx.index.pipelines(), { file: p.file, pipeline: p.name, environment: answer.e.name });
      step = 3;
    } else {
      const t = target!;
      const answer = await prompts().input({
        title: `${title}: ${targetLabel(t)}`,
        step: total,
        totalSteps: total,
        prompt: 'Image to release (from the deploy file; edit to release another)',
        value: t.pipelineModel.image,
        validate: validateImage,
      });
      if (answer === BACK && !ref) {
        step = 2;
        continue;
      }
      if (!answer || answer === BACK) return cancelled();
      const image = answer.trim();
      return perform(ctx, t, 'start', image !== t.pipelineModel.image ? { image } : {});
    }
  }
  return cancelled();
}

function cancelled(): CommandOutcome {
  return { ok: false, code: 'cancelled', message: 'cancelled by the user' };
}

async function perform(ctx: CommandContext, target: ResolvedTarget, action: RolloutAction, extra: ActionOptions): Promise<CommandOutcome> {
  const label = targetLabel(target);
  const words = ACTION_VERBS[action];
  if (!isTrusted()) {
    ctx.log.warn(`Refused to ${words.verb} ${label}: the workspace is in Restricted Mode`);
    void refuseUntrusted(`${words.verb} ${label}`);
    return { ok: false, code: 'untrusted', message: 'Restricted Mode: Kube Delivery does not write to clusters from an untrusted workspace' };
  }
  const options: ActionOptions = { ...extra };
  if (target.environmentModel.protected) {
    const confirmed = await confirmProtected(target.environment, `${words.verb} ${target.pipeline}`);
    if (!confirmed) {
      ctx.log.info(`${words.title} ${label}: not confirmed, nothing sent`);
      return { ok: false, code: 'cancelled', message: 'confirmation not given' };
    }
    options.confirm = confirmed;
  }
  ctx.log.info(`${words.title} ${label}${options.image ? ` with image ${options.image}` : ''}${options.confirm ? ' (confirmed)' : ''}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Kube Delivery: ${words.title} ${label}…`, cancellable: false },
    async (): Promise<ActionResult> => {
      try {
        const service = await getRolloutService();
        return await service.act({ pipeline: target.pipelineModel, environment: target.environment }, action, options);
      } catch (err) {
        return { ok: false, code: 'other', message: err instanceof Error ? err.message : String(err) };
      }
    },
  );
  if (result.ok) {
    ctx.store.put(target, result.snapshot);
    ctx.log.info(`${label} ${words.past}: ${mergedStatus(result.snapshot).description}`);
    vscode.window.setStatusBarMessage(`$(check) ${label} ${words.past}`, 4000);
  } else {
    ctx.log.error(`${words.title} ${label} failed (${result.code}): ${result.message}`);
    void vscode.window.showErrorMessage(`Could not ${words.verb} ${label}: ${result.message}`);
  }
  return result;
}
