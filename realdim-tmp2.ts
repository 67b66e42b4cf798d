import { loadT5 } from './engine/models/text-encoder-runner.js';
import { createT5Tokenizer } from './engine/tokenizers/index.js';
const dir = '/tmp/realdim';
for (const precision of ['fp8', 'fp32'] as const) {
  const t0 = Date.now();
  const t = await loadT5(`${dir}/t5xxl_fp16.safetensors`, { precision, cacheDir: dir, session: { intraOpThreads: 2 } });
  const t1 = Date.now();
  await t.encode(createT5Tokenizer().tokenize('a photo of a cat'));
  const t2 = Date.now();
  await t.encode(createT5Tokenizer().tokenize('a photo of a dog'));
  console.log(`T5 ${precision} cached load ${t1 - t0} ms (reused ${t.cache.reused}), first encode ${t2 - t1} ms, second ${Date.now() - t2} ms, ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  await t.release();
}
