// Typed confirmation for protected environments: the user types the environment's name, exactly, before
// any write. Pure validation is separate so unit tests and the prompt share one rule.
import { prompts, BACK } from './prompts';

export function confirmationError(expected: string, typed: string): string | undefined {
  return typed === expected ? undefined : `Type "${expected}" exactly to confirm`;
}

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
