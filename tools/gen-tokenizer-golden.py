#!/usr/bin/python3
"""Independent reference for ComfyUI's SD3 tokenization; writes test/golden/tokenizers/*.json.

Run with Debian's python (needs python3-regex and python3-sentencepiece, see tools/README.md):
    /usr/bin/python3 tools/gen-tokenizer-golden.py

Nothing here uses the HF tokenizer.json files the engine uses:
* CLIP: OpenAI's simple_tokenizer BPE re-implemented on bpe_simple_vocab_16e6.txt.gz, with the text
  clean-up of transformers' slow CLIPTokenizer without ftfy (BasicTokenizer(strip_accents=False,
  do_split_on_punc=False)) and its split on the added tokens <|startoftext|> / <|endoftext|>.
* T5: the SentencePiece library on spiece.model, `</s>` (1) appended.
* ComfyUI's sd1_clip.py logic (token_weights, parse_parentheses, escapes, embedding words, 77-token
  windows) re-typed from its source, for both word-splitting revisions ('words' and 'segments').
Prompts come from a seeded generator (weights, escapes, malformed syntax, long prompts, unicode).
"""
import gzip
import json
import math
import os
import random
import unicodedata

import regex as re
import sentencepiece as spm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
DATA = os.path.join(ROOT, 'engine', 'tokenizers', 'data')
OUT = os.path.join(ROOT, 'test', 'golden', 'tokenizers')


# ---------------------------------------------------------------- CLIP BPE (OpenAI simple_tokenizer)
def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return set(zip(word[:-1], word[1:]))


class ClipBpe:
    def __init__(self, path):
        merges = gzip.open(path).read().decode('utf-8').split('\n')
        merges = [tuple(m.split()) for m in merges[1:49152 - 256 - 2 + 1]]
        self.byte_encoder = bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + '</w>' for v in vocab]
        vocab += [''.join(m) for m in merges]
        vocab += ['<|startoftext|>', '<|endoftext|>']
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {}
        self.pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = get_pairs(word)
        if not pairs:
            return token + '</w>'
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        out = ' '.join(word)
        self.cache[token] = out
        return out


def is_control(ch):
    if ch in '\t\n\r':
        return False
    return unicodedata.category(ch).startswith('C')


def is_whitespace(ch):
    return ch in ' \t\n\r' or unicodedata.category(ch) == 'Zs'


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text):
    """transformers BasicTokenizer(do_lower_case=True, strip_accents=False, do_split_on_punc=False)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        out.append(' ' if is_whitespace(ch) else ch)
    text = ''.join(out)
    text = ''.join(' ' + ch + ' ' if is_cjk(ord(ch)) else ch for ch in text)
    text = unicodedata.normalize('NFC', text)
    return [t.lower() for t in text.strip().split()]


SPECIALS = re.compile(r'(<\|startoftext\|>|<\|endoftext\|>)')


def clip_encode(bpe, text):
    """Slow CLIPTokenizer(text)['input_ids'] without ftfy: [BOS] + ids + [EOS]."""
    ids = []
    for piece in SPECIALS.split(text):
        if piece in ('<|startoftext|>', '<|endoftext|>'):
            ids.append(bpe.encoder[piece])
            continue
        if piece == '':
            continue
        cleaned = ' '.join(basic_tokenize(piece))
        for token in re.findall(bpe.pat, cleaned):
            token = ''.join(bpe.byte_encoder[b] for b in token.encode('utf-8'))
            ids.extend(bpe.encoder[t] for t in bpe.bpe(token).split(' '))
    return [49406] + ids + [49407]


# ---------------------------------------------------------------- ComfyUI sd1_clip.py logic
def escape_important(text):
    return text.replace('\\)', '\0\1').replace('\\(', '\0\2')


def unescape_important(text):
    return text.replace('\0\1', ')').replace('\0\2', '(')


def parse_parentheses(string):
    result, current, level = [], '', 0
    for ch in string:
        if ch == '(':
            if level == 0:
                if current:
                    result.append(current)
                current = '('
            else:
                current += ch
            level += 1
        elif ch == ')':
            level -= 1
            if level == 0:
                result.append(current + ')')
                current = ''
            else:
                current += ch
        else:
            current += ch
    if current:
        result.append(current)
    return result


def token_weights(string, current_weight):
    out = []
    for x in parse_parentheses(string):
        weight = current_weight
        if len(x) >= 2 and x[-1] == ')' and x[0] == '(':
            x = x[1:-1]
            xx = x.rfind(':')
            weight *= 1.1
            if xx > 0:
                try:
                    weight = float(x[xx + 1:])
                    x = x[:xx]
                except ValueError:
                    pass
            out += token_weights(x, weight)
        else:
            out += [(x, current_weight)]
    return out


class Tok:
    def __init__(self, encode, vocab, start, end, pad, pad_to_max, max_length, min_length, size, key):
        self.encode, self.vocab = encode, vocab
        self.start, self.end, self.pad = start, end, pad
        self.pad_to_max, self.max_length, self.min_length = pad_to_max, max_length, min_length
        self.size, self.key = size, key
        self.tokens_start = 1 if start is not None else 0


def try_embedding_old(name, lookup):
    embed = lookup(name)
    if embed is None:
        stripped = name.strip(',')
        if len(stripped) < len(name):
            return lookup(stripped), name[len(stripped):]
    return embed, ''


def try_embedding_new(name, lookup):
    split_embed = name.split()
    name = split_embed[0] if split_embed else ''
    leftover = ' '.join(split_embed[1:])
    m = re.search(r'[<\[]', name)
    if m is not None:
        leftover = name[m.start():] + (' ' + leftover if leftover else '')
        name = name[:m.start()]
    embed = lookup(name)
    if embed is None:
        stripped = name.strip(',')
        if len(stripped) < len(name):
            return lookup(stripped), '{} {}'.format(name[len(stripped):], leftover)
    return embed, leftover


def tokenize_with_weights(tok, text, splitting, lookup):
    text = escape_important(text)
    tokens = []
    for segment, weight in token_weights(text, 1.0):
        segment = unescape_important(segment)
        if splitting == 'words':
            words = [w for w in segment.replace('\n', ' ').split(' ') if w != '']
        else:
            split = re.split(r'(?<=\s)embedding:', segment)
            words = [w for w in [split[0]] + ['embedding:' + s for s in split[1:]] if w != '']
        for word in words:
            if word.startswith('embedding:') and lookup is not None:
                name = word[len('embedding:'):].strip('\n')
                embed, leftover = (try_embedding_old if splitting == 'words' else try_embedding_new)(name, lookup)
                if embed is not None:
                    tokens.append([(e, weight) for e in embed])
                if leftover != '':
                    word = leftover
                else:
                    continue
            if splitting == 'words' and word + '</w>' in tok.vocab:
                ids = [tok.vocab[word + '</w>']]
            else:
                ids = tok.encode(word)[tok.tokens_start:-1]
            tokens.append([(t, weight) for t in ids])
    has_end = 1 if tok.end is not None else 0
    batch = [(tok.start, 1.0)] if tok.start is not None else []
    batches = [batch]
    for group in tokens:
        is_large = len(group) >= 8
        while len(group) > 0:
            if len(group) + len(batch) > tok.max_length - has_end:
                remaining = tok.max_length - len(batch) - has_end
                if is_large:
                    batch.extend(group[:remaining])
                    if tok.end is not None:
                        batch.append((tok.end, 1.0))
                    group = group[remaining:]
                else:
                    if tok.end is not None:
                        batch.append((tok.end, 1.0))
                    if tok.pad_to_max:
                        batch.extend([(tok.pad, 1.0)] * remaining)
                batch = [(tok.start, 1.0)] if tok.start is not None else []
                batches.append(batch)
            else:
                batch.extend(group)
                group = []
    if tok.end is not None:
        batch.append((tok.end, 1.0))
    if tok.pad_to_max and len(batch) < tok.max_length:
        batch.extend([(tok.pad, 1.0)] * (tok.max_length - len(batch)))
    if tok.min_length is not None and len(batch) < tok.min_length:
        batch.extend([(tok.pad, 1.0)] * (tok.min_length - len(batch)))
    return batches


# ---------------------------------------------------------------- prompts
WORDS = ('a photo of cat dog astronaut riding horse on the moon highly detailed digital painting portrait woman man '
         'city night neon lights rain forest mountain lake sunset castle dragon fantasy art by greg rutkowski trending '
         'artstation 4k 8k hdr cinematic lighting masterpiece best quality ultra sharp focus bokeh depth of field '
         'oil canvas watercolor sketch anime style cyberpunk steampunk robot spaceship galaxy stars nebula ocean waves '
         'beach palm tree flowers garden butterfly red blue green yellow purple orange black white golden silver '
         'glowing eyes smiling old young tiny huge ancient futuristic abandoned cozy room window light shadows').split()
ODD = ['Photo', 'CAT', "don't", "it's", "we're", "I'll", "she'd", "you've", "I'm", 'e-mail', 'U.S.A.', '3.14',
       '1920x1080', '#hashtag', '@user', 'foo_bar', 'x,y', 'hello!!!', '...', '?!', '--ar', '16:9', '(', ')', ':', '[x]',
       '{y}', '<tag>', '<|endoftext|>', '&amp;', 'naïve', 'café', 'Straße', 'ΣΟΦΙΑ', 'Москва', 'Ελλάδα', 'mañana',
       'e\u0301', '東京タワー', 'こんにちは', '서울', '漢字テスト', '🐱', '🚀✨', 'a\u200bb', 'tab\there', 'x\u00a0y',
       'İstanbul', 'ǅemal', 'ﬁne', '①②', '٣٤', 'x\u2028y', '\x07bell', 'soft\u00adhyphen', 'a\ufffdb']
WEIGHTS = ['1.2', '0.5', '1.5', '2', '0', '-1', ' 1.1 ', '1e-1', '1_0', '.5', '5.', 'inf', 'nan', 'abc', '', '1.2.3', '+0.7']


def rand_word(rng, odd_rate):
    return rng.choice(ODD) if rng.random() < odd_rate else rng.choice(WORDS)


def rand_phrase(rng, n, odd_rate):
    sep = lambda: rng.choice([' ', ' ', ' ', ', ', '  ', '\n', ' , '])  # noqa: E731
    return ''.join(rand_word(rng, odd_rate) + (sep() if i < n - 1 else '') for i in range(n))


def rand_weighted(rng, depth, odd_rate):
    kind = rng.random()
    inner = rand_phrase(rng, rng.randint(1, 4), odd_rate)
    if depth < 3 and rng.random() < 0.3:
        inner = inner + ' ' + rand_weighted(rng, depth + 1, odd_rate)
    if kind < 0.35:
        return '(' + inner + ':' + rng.choice(WEIGHTS) + ')'
    if kind < 0.6:
        return '(' * rng.randint(1, 3) + inner + ')' * rng.randint(1, 3)
    if kind < 0.7:
        return '\\(' + inner + '\\)'
    if kind < 0.8:
        return '[' + inner + ']'
    if kind < 0.9:
        return 'embedding:' + rng.choice(['cat_ti', 'style', 'missing', 'cat_ti,', 'style<x>', 'style[1]']) + ' ' + inner
    return inner + rng.choice([')', '(', ':', '\\', '\\)'])


def make_prompts(count, seed):
    rng = random.Random(seed)
    prompts = ['', ' ', 'a photo of a cat', 'A PHOTO OF A CAT', '(cat:1.2)', '((cat))', '(((cat)))', '[cat]', '\\(cat\\)',
               'foo ((((lol (cat:666) attack:100)))) baz', 'foo ((((lol (cat:666) attack):100))) baz', '(cat:)', '(:1.5)',
               'a)b(c', ')))', '(((', 'embedding:cat_ti', 'embedding:cat_ti, a cat', 'x embedding:style y',
               'supercalifragilisticexpialidocious ' * 3, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
               ' '.join(['word'] * 75), ' '.join(['word'] * 76), ' '.join(['word'] * 150), ' '.join(['cats,'] * 40),
               '東京タワーと富士山', 'café naïve Straße', '🐱🐶🐭', 'tab\tnew\nline  double  space', '\n\n\n']
    while len(prompts) < count:
        r = rng.random()
        odd = rng.choice([0.0, 0.1, 0.4])
        if r < 0.35:
            p = rand_phrase(rng, rng.randint(1, 20), odd)
        elif r < 0.75:
            p = ' '.join(rand_weighted(rng, 0, odd) if rng.random() < 0.4 else rand_phrase(rng, rng.randint(1, 5), odd)
                         for _ in range(rng.randint(1, 6)))
        elif r < 0.9:
            p = rand_phrase(rng, rng.randint(60, 200), odd)
            if rng.random() < 0.5:
                p += ' (' + rand_phrase(rng, rng.randint(20, 90), odd) + ':1.3)'
        else:
            p = ''.join(rng.choice(ODD + WORDS + ['(', ')', ':', ' ', '\\(']) for _ in range(rng.randint(1, 30)))
        prompts.append(p)
    return prompts


# ---------------------------------------------------------------- golden output
EMBEDDINGS = {'cat_ti': 2, 'style': 1}


def embedding_lookup(name):
    """Vectors are represented by labels; the TS test builds vectors whose first value encodes them."""
    n = EMBEDDINGS.get(name)
    return None if n is None else ['%s#%d' % (name, k) for k in range(n)]


def encode_windows(batches):
    out = []
    for b in batches:
        ids = [t for t, _ in b]
        # JSON has no inf/nan: those weights are written as Python's repr ('inf', '-inf', 'nan').
        weights = [[i, w if math.isfinite(w) else repr(w)] for i, (_, w) in enumerate(b) if w != 1.0]
        out.append({'ids': ids, 'weights': weights})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    bpe = ClipBpe(os.path.join(DATA, 'clip', 'bpe_simple_vocab_16e6.txt.gz'))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(DATA, 't5', 'spiece.model'))
    clip_enc = lambda text: clip_encode(bpe, text)  # noqa: E731
    t5_enc = lambda text: sp.encode(text) + [1]  # noqa: E731
    t5_vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    toks = {
        'clip_l': Tok(clip_enc, bpe.encoder, 49406, 49407, 49407, True, 77, None, 768, 'clip_l'),
        'clip_g': Tok(clip_enc, bpe.encoder, 49406, 49407, 0, True, 77, None, 1280, 'clip_g'),
        't5xxl': Tok(t5_enc, t5_vocab, None, 1, 0, False, 99999999, 77, 4096, 't5xxl'),
    }
    prompts = make_prompts(320, 20261125)
    # Raw tokenizer parity (no ComfyUI logic): plain encode of each prompt.
    plain = {'clip': [clip_enc(p) for p in prompts], 't5': [t5_enc(p) for p in prompts]}
    for splitting, subset in (('words', prompts), ('segments', prompts[:120])):
        for key, tok in toks.items():
            cases = []
            for p in subset:
                cases.append({'prompt': p, 'windows': encode_windows(tokenize_with_weights(tok, p, splitting, embedding_lookup))})
            path = os.path.join(OUT, '%s-%s.json' % (key, splitting))
            with open(path, 'w', encoding='utf-8') as f:
                json.dump({'encoder': key, 'splitting': splitting, 'embeddings': EMBEDDINGS, 'cases': cases}, f, ensure_ascii=False, separators=(',', ':'))
            print(path, os.path.getsize(path))
    path = os.path.join(OUT, 'plain.json')
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({'prompts': prompts, **plain}, f, ensure_ascii=False, separators=(',', ':'))
    print(path, os.path.getsize(path))


if __name__ == '__main__':
    main()
