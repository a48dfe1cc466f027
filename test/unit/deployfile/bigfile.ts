// A large deploy file of many pipelines (used by the incremental test and the benchmark).
import { BASE } from './helpers';

export function bigDeployFile(targetLines = 5000): string {
  const docs: string[] = [];
  let lines = 0;
  for (let i = 0; lines < targetLines; i++) {
    const doc = BASE.replace('name: shop', `name: shop-${i}`).replace('checks: 2', `checks: ${(i % 5) + 1}`);
    docs.push(doc);
    lines += doc.split('\n').length;
  }
  return docs.join('---\n');
}
