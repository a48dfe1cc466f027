// Typed confirmation for protected environments: the user types the environment's name, exactly, before
// any write. The rule itself is in model/validation.ts (unit-tested).
import { confirmationError } from '../model/validation';
import { prompts, BACK } from './prompts';

/** Resolves to the confirmed name, or undefined when the user cancelled. */
export async function confirmProtected(environment: string, what: string): Promise<string | undefined> {
  const answer = await prompts().input({
    title: `Confirm: ${what}`,
    prompt: `"${environment}" is a protected environment. Type its name to ${what}.`,
    placeholder: environment,
    validate: (v) => confirmationError(environment, v),
  });
  if (answer === undefined || answer === BACK) return undefined;
  return confirmationError(environment, answer) ? undefined : answer;
}
