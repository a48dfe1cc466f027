// Palette invocations carry no target: ask for one. Only targets whose last known state allows the
// action are offered (all targets when nothing is known yet), with their live status as description.
import * as vscode from 'vscode';
import type { RolloutAction } from '../../engine/snapshot';
import { mergedStatus } from '../model/status';
import { allTargets, targetKey, type ResolvedTarget } from '../model/targets';
import type { CommandContext } from './context';
import { BACK, prompts, type Answer } from './prompts';

interface TargetItem extends vscode.QuickPickItem {
  target: ResolvedTarget;
}

export async function pickTarget(ctx: CommandContext, action: RolloutAction | undefined, title: string): Promise<ResolvedTarget | undefined> {
  await ctx.index.ready();
  const targets = allTargets(ctx.index.pipelines());
  if (!targets.length) {
    void vscode.window.showInformationMessage('No deploy file with environments in this workspace. Create one with "Kube Delivery: Create Deploy File".');
    return undefined;
  }
  const allowed = targets.filter((t) => {
    const s = ctx.store.get(targetKey(t));
    return !action || !s || s.error || s.actions?.[action]?.allowed;
  });
  const offered = allowed.length ? allowed : targets;
  const items: TargetItem[] = offered.map((t) => {
    const s = ctx.store.get(targetKey(t));
    return {
      label: `${t.pipeline} → ${t.environment}`,
      description: `${t.environmentModel.protected ? '$(lock) ' : ''}${s ? mergedStatus(s).description : `${t.environmentModel.context} · ${t.environmentModel.namespace}`}`,
      detail: vscode.workspace.asRelativePath(t.file),
      target: t,
    };
  });
  const answer: Answer<TargetItem> = await prompts().pick(items, { title, placeholder: 'Pipeline and environment' });
  return answer && answer !== BACK ? answer.target : undefined;
}
