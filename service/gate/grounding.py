"""Grounding: every checkable specific in an analysis must be in the source it was written from.

Specifics are numbers that carry a result (decimals, percentages, multipliers, large counts),
name-like tokens (datasets, benchmarks, baselines: ImageNet, TUM, ResNet-50), quoted English
evidence, and "code is released" claims. Comparison is on normal forms, so 84.1 = 84.10 =
84.1 %, 1,272 = 1272, "Extensive" = "extensive".
"""
from __future__ import annotations

import bisect

import re
from functools import lru_cache
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ..models import Finding
from .text import CJK, LATIN, MATH, ascii_runs, key, normalize, without_quotes

MIN_EVIDENCE_CHARS = 20
#: A number as written: 84.1, 1,272, 84.10%, 3×, 0.5x; not part of a name (ResNet-50, Qwen2.5, 3D).
NUMBER = re.compile(r"(?=\d)(?<![\w./])(?<![\w.)]-)(\d{1,3}(?:,\d{3})+|\d+)(?!,\d{3})(?:\.(\d+))?(?!\.\d)"
                    r"(\s?(?:%|％|percent\b|per cent\b|pp\b|(?:percentage )?points?\b|pts\b|个百分点|个点|倍|×|x\b|times\b|"
                    r"k\b|K\b|M\b|B\b))?(?![\w\-/])")
NAME = re.compile(r"(?<![\w\-])(?:[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+|[A-Z]{2,}[a-z]*[A-Z]*[a-z]*|[A-Za-z]+-?\d+[A-Za-z0-9]*|"
                  r"[A-Z][A-Za-z]*\d[A-Za-z0-9]*)(?:[-.][A-Za-z0-9]+)*(?![\w])")
#: General vocabulary spelled like a name: not a paper's specific (domain words, not paper names).
COMMON = set("""
AI ML DL CV NLP LLM LLMs MLLM MLLMs VLM VLMs VLA LVLM GPU GPUs CPU CPUs TPU API APIs RGB RGBD RGB-D CNN CNNs RNN RNNs GAN GANs
MLP MLPs ViT ViTs SOTA SLAM AR VR XR MR OCR FPS IoU mIoU mAP PSNR SSIM LPIPS FID AUC ROC BLEU ROUGE GT QA VQA SFT RL RLHF
DPO PPO KL MSE MAE L1 L2 ReLU GELU SGD Adam AdamW FFT IFFT DCT PCA SVD ICP RANSAC LiDAR IMU GPS UAV UAVs ID OOD IID 2D 3D 4D
1D 6DoF DoF SE3 SO3 JSON HTML PDF URL GitHub HuggingFace PyTorch TensorFlow JAX CUDA NeRF NeRFs LoRA BERT GPT Transformer
Transformers CLIP TTS ASR ToF HDR LDR UI UX IoT EEG MRI CT PET LLaVA FLOPs GFLOPs TFLOPs MB GB TB KB ms FPGA SoC BEV
OpenAI Google Meta Microsoft NVIDIA Apple DeepMind arXiv ArXiv AIGC RAG CoT ICL MoE SSM SSMs TCP HTTP SQL CLI SDK CAD
GMM GMMs HMM HMMs SVM SVMs GNN GNNs GCN GCNs LSTM LSTMs VAE VAEs KNN kNN WER CER EER SNR RMSE MAPE CRPS NDCG MRR AUROC
HPC SIMD MPI DBMS NER MCMC ODE ODEs PDE PDEs SDE ILP MILP SAT SMT DNN DNNs ETL FPGA FPGAs ASIC ASICs DRAM SRAM SSD SSDs
""".split())
#: Metrics a writer may name as general vocabulary, but not as a row of results the source does not
#: report ("| CRPS vs. Chronos | 7.9% lower |" when the abstract gives MASE only).
METRICS = set("""
WER CER EER SNR RMSE MAPE MASE CRPS NDCG MRR AUROC AUC MSE MAE PSNR SSIM LPIPS FID BLEU ROUGE mAP mIoU IoU
""".split())
#: An acronym glossed in parentheses right after what it stands for ("图神经网络（GNN）",
#: "graph neural network (GNN)"): the writer's abbreviation of a general term, not a name.
_GLOSS = re.compile(r"(?:[\u4e00-\u9fff]{2}|[a-z]{3,}\s?)[(（]\s*([A-Z]{2,6}s?)\s*[)）]")
#: A name with a capital inside it (ImageNet, MiDaS, scGPT, RocksDB): coined for a model, a dataset
#: or a system, so a claim wherever it stands (on the whole corpus, no good analysis has one the
#: source lacks). Products the world knows are not (an application "on a phone or YouTube").
_CAMEL = re.compile(r"(?:[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+|[a-z]+[A-Z][A-Za-z0-9]*)")
WORLD = set("""
YouTube iPhone iPad iPhones iPads MacBook WeChat TikTok WhatsApp LinkedIn PowerPoint JavaScript TypeScript PlayStation
OpenStreetMap WordPress LaTeX PubMed StackOverflow ChatGPT OpenAI DeepMind GitHub GitLab HuggingFace PyTorch TensorFlow
NumPy SciPy YouTubers eBay PayPal FedEx SpaceX AirBnB Airbnb BlackBerry McDonald PhD PhDs
""".split())
#: Capitalised words that are ordinary English inside a sentence.
STOP_CAPS = set("""
english chinese arabic european american asian euclidean gaussian bayesian markov fourier laplacian hessian
german french spanish italian portuguese dutch russian japanese korean hindi indian african latin greek turkish
persian vietnamese thai indonesian swahili polish swedish norwegian danish finnish hebrew ukrainian bengali urdu
monday tuesday wednesday thursday friday january february march april june july august september october november december
""".split())
#: A release told as done in other words than "is released": "weights already public on Hugging Face",
#: "can be downloaded from …", "is up on GitHub", "权重已上传到…", "可在 Hugging Face 下载".
_OUT_NOW = (r"(?:code|implementation|weights|checkpoints?|models?|dataset|data|benchmark)\b[^.;\n]{0,30}?\b(?:already|now)\s+"
            r"(?:public(?:ly available)?|available|released|open[- ]sourced?|online|out|downloadable|up|live|"
            r"(?:on|at)\s+(?:github|gitlab|hugging ?face))\b|"
            r"(?:code|implementation|weights|checkpoints?|models?|dataset|data|benchmark)\b[^.;\n]{0,30}?\b(?:"
            r"can (?:already |now )?be (?:freely )?(?:downloaded|cloned)|(?:is|are) (?:freely |publicly )?(?:downloadable|"
            r"publicly accessible)|(?:is|are) (?:up|live|out) on (?:github|gitlab|hugging ?face))\b|"
            r"(?:代码|权重|模型|数据集?|实现)[^。，；\n]{0,10}?(?:已|已经)(?:上传|上线|放出|可下载|可获取|挂)|"
            r"可(?:以|直接)?(?:在|从)[^。，；\n]{0,24}?(?:下载|获取)(?:代码|权重|模型|数据)")
_CODE_CLAIM = re.compile(r"(?:code|implementation|weights|checkpoints?|models?|dataset|data)\b[^.;\n]{0,30}?\b(?:is|are)\s+"
                         r"(?:already\s+|now\s+|publicly\s+|openly\s+)*(?:hosted\s+|available\s+)?(?:at|on)\s+(?:https?://|github|gitlab|hugging ?face)|"
                         r"(?:代码|实现|权重|模型|数据集?)[^。；\n]{0,12}?(?:托管|放|发布|公开|开源)在|托管在\s*(?:GitHub|GitLab|Hugging ?Face)|"
                         r"(?:code|implementation|source code|weights|models?|dataset|data|benchmark)\s+(?:is|are|has been|have been|will be|was|were)"
                         r"\s+(?:publicly |openly |freely |made )*(?:released|available|open[- ]sourced?|public)|"
                         r"\bopen[- ]sourced?\b|\breleases? (?:the |their |its )?(?:code|implementation|weights)|"
                         r"代码(?:已|将|已经)?(?:开源|公开|发布)|(?:已|将)?开源(?:了)?(?:代码|实现|模型|数据)?|"
                         r"(?:公开|开源|放出|发布)(?:了)?[^。，；\n]{0,8}?(?:代码|权重|数据集)|" + _OUT_NOW, re.I)
#: The source speaks of releasing or hosting code, weights or data: a repository host, or such an
#: artefact as the object of a verb of release, hosting or availability (on lower-cased text).
#: "code review", "code-switching" or a project page on github.io say nothing of the kind.
_ARTEFACT = r"(?:source code|code(?:base)?s?|implementations?|weights|checkpoints?|models?|data(?:sets?)?|benchmarks?|" \
            r"toolkits?|library|software|package|scripts?|repositor(?:y|ies))"
_RELEASE = r"(?:available|availability|release[sd]?|releasing|open[- ]?sourc(?:e|ed|ing)|publicly|hosted|" \
           r"download(?:ed|able)?|made public|found at|obtained from|https?://|github|gitlab|hugging ?face)"
_CODE_SOURCE = re.compile(rf"(?:github|gitlab|bitbucket|codeberg|gitee)\.(?:com|org)/|huggingface\.co/|"
                          rf"\b{_ARTEFACT}\b[^.;\n]{{0,80}}?\b{_RELEASE}|\b{_RELEASE}\b[^.;\n]{{0,40}}?\b{_ARTEFACT}\b|"
                          r"\bwe open[- ]?source|\bmake (?:our|the|this|all|its|their) [\w -]{0,30}public\b|开源|代码")
#: Words every match of _CODE_SOURCE contains: the regex only runs around them.
_CODE_KEYS = ("github", "gitlab", "bitbucket", "codeberg", "gitee", "huggingface", "code", "implementation", "weights",
              "checkpoint", "model", "data", "benchmark", "toolkit", "library", "software", "package", "script",
              "repositor", "open", "开源", "代码")
_NEGATION = re.compile(r"\b(?:not|no|never|unclear|whether|unknown|without|nor)\b|n't|未|没有|尚未|不(?!过|仅|少|同|断|久)|是否|无", re.I)
#: A topic-comment sentence: the claim is the topic, the next clause says the source is silent on it
#: ("代码开源与否，摘要没有说明", "whether the code is open, the abstract does not say").
_UNSAID = re.compile(r"[，,]\s*(?:但|但是|不过)?(?:摘要|论文|原文|作者|文中|正文|the abstract|the paper|the authors)[^，。,.]{0,6}?"
                     r"(?:没有|未|并未|不|没|does not|doesn't|did not|never)", re.I)
_QUOTED = re.compile(r"[“\"「]([^”\"」\n]{12,})[”\"」]")
_QUOTE_PAIR = re.compile(r"[“\"「]([^”\"」\n]*)[”\"」]")


def _value(whole: str, frac: str | None) -> Decimal | None:
    try:
        return Decimal(whole.replace(",", "") + ("." + frac if frac else "")).normalize()
    except InvalidOperation:
        return None


#: A number in scientific notation ("1.8e-1", "6.2E-03", "3×10^-4"): NUMBER skips it (a letter
#: follows), but a writer compares such numbers ("the error falls 29-fold").
_SCI_BEFORE = frozenset("0123456789×x ")
_SCI = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(?:[eE]|[×x]\s?10\^?)\{?([+\-]?\d{1,3})\}?(?!\w|\.\d)")


def numbers(text: str) -> set[Decimal]:
    """Every number in the text as a normalised value (84.10% -> 84.1, 1,272 -> 1272, 1.8e-1 -> 0.18)."""
    norm = normalize(text)
    spelled = {(whole, frac) for whole, frac, _ in NUMBER.findall(norm)}  # a full text repeats them
    out = {v for whole, frac in spelled if (v := _value(whole, frac or None)) is not None}
    for mark in ("e-", "e+", "E-", "E+", "10^", "10{"):  # str.find: far faster than a regex over a full text
        i = norm.find(mark)
        while i != -1:
            if i and norm[i - 1] in _SCI_BEFORE:
                out |= {Decimal(m[1]).scaleb(int(m[2])).normalize() for m in _SCI.finditer(norm, max(0, i - 24), i + 8)}
            i = norm.find(mark, i + 2)
    return out


def specific_numbers(text: str) -> list[tuple[str, Decimal]]:
    """Numbers that state a result: decimals, percentages, multipliers, counts of 100 or more;
    not list ordinals, headings, years, small counts or numbers inside formulas and names."""
    text = MATH.sub(" ", normalize(text))
    text = re.sub(r"^\s*(?:#+\s*)?(?:\*\*)?\s*\d+(?:[.)](?=\s|\*)|、)", " ", text, flags=re.M)
    out = []
    found = list(NUMBER.finditer(text))
    for i, m in enumerate(found):
        v = _value(m[1], m[2])
        if v is None:
            continue
        unit = (m[3] or "").strip()
        year = not m[2] and not unit and 1900 <= v <= 2100
        if m[2] or unit or (v >= 100 and not year):
            change = not unit and _CHANGE.search(text, max(0, m.start() - 12), m.start())
            shown = m.group(0).strip()
            if not unit and i + 1 < len(found) and found[i + 1][3] and _SHARED.fullmatch(text, m.end(), found[i + 1].start()):
                shown += found[i + 1][3]  # "18.3 and 20.4 points", "1.2、3.4 个百分点": the unit written once
            out.append(((_CHANGE_MARK if change else "") + shown, v))
    for m in _GROUPED_COMPOUND.finditer(text):  # "330,000-cell": the whole number, not "330"
        if (v := _value(m[1], None)) is not None:
            out.append((m[1], v))
    return out


#: What joins numbers of one list that share the unit written after the last one.
_SHARED = re.compile(r"\s*(?:,|，|、|/|和|与|及|或|至|到|-|~|\band\b|\bor\b|\bto\b|\bvs\.?|\bversus\b)\s*")
_GROUPED_COMPOUND = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+)-(?=[A-Za-z])")


#: A number written as a change: signed ("+5.6", "−0.012") or after "by" / 提升 ("falls by 32.2 ms").
#: Such a number may be the difference of two numbers the source compares.
_CHANGE = re.compile(r"(?:[+\-±]|\bby\s|\b(?:gap|difference|margin) of\s|(?:提升|提高|降低|下降|增加|减少|缩短|减小|增大|变化|相?差|"
                     r"差距为?|落后|领先|高出)了?\s?)$", re.I)
_CHANGE_MARK = "±"


#: A number written into a compound in the source ("124M-parameter", "3x-faster"): NUMBER skips
#: it (a hyphen follows), but it is the number an analysis will write as "124M".
_COMPOUND = re.compile(r"(?<![\w.\-/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s?(?:[kKMB]|x|×|%)?-(?=[A-Za-z])")
_UNIT_HYPHEN = re.compile(r"[\dkKMBx×%]-[A-Za-z]")
_UNIT_ONLY_HYPHEN = re.compile(r"[kKMBx×%]-[A-Za-z]")
#: A percentage's complement: "cuts delay by 47%" is "0.53 of" / "53% of" the other's.
_PERCENTAGE = re.compile(r"(?<![\w.])(\d{1,2}(?:\.\d+)?)\s?%$")


#: Derivations are tried only on sources with few numbers (an abstract): on a full text, pairs of
#: its thousands of numbers would ground almost anything.
_MAX_DERIVE = 60


@lru_cache(maxsize=64)
def _stated_numbers(source: str) -> frozenset[Decimal]:
    """The numbers the source writes, as written (no derived or rescaled forms), once per source."""
    return frozenset(numbers(source))


@lru_cache(maxsize=64)
def _source_numbers(source: str) -> frozenset[Decimal]:
    values = set(_stated_numbers(source))
    norm = normalize(source)
    # the full pattern only where a unit (on a short source, any digit) meets a hyphen: fast on a full text
    for m in (_UNIT_HYPHEN if len(values) <= _MAX_DERIVE else _UNIT_ONLY_HYPHEN).finditer(norm):
        c = _COMPOUND.search(norm, max(0, m.start() - 24), m.end())
        if c and (v := _value(c[1], c[2])) is not None:
            values.add(v)
    i = norm.find("%") if len(values) <= _MAX_DERIVE else -1
    while i != -1:  # around each "%" only (str.find is far faster than a regex over a full text)
        m = _PERCENTAGE.search(norm, max(0, i - 12), i + 1)
        if m and (v := _value(*m[1].partition(".")[::2])) is not None:
            values.add((100 - v).normalize())
        i = norm.find("%", i + 1)
    scaled = {(v * 100).normalize() for v in values} | {(v / 100).normalize() for v in values}
    return frozenset(values | scaled)


#: A number the writer marks as rounded ("about 1.3k", "roughly 87%", "约 1300 个").
_HEDGED = re.compile(r"(?:\b(?:about|around|roughly|approximately|approx\.|nearly|almost|some)\s+|[~≈～]\s?|"
                     r"(?:约|大约|近|将近|接近)(?:有|为|是)?\s?)(?=\d)", re.I)
_MAGNITUDE = {"k": 3, "K": 3, "M": 6, "B": 9}


def _rounding_of(shown: str, source: str) -> bool:
    """True when a hedged number is a source number rounded to the digits it shows: "about 1.3k" for
    1,272, "roughly 87%" for 87.3% (not 91%: a rounding keeps every digit it writes)."""
    m = re.match(r"(\d[\d,]*)(?:\.(\d+))?\s?([kKMB])?", shown)
    if not m:
        return False
    digits = (m[1].replace(",", "") + (m[2] or "")).lstrip("0")
    sig = len(digits if m[2] else digits.rstrip("0")) or 1
    target = _value(m[1], m[2])
    if target is None or target == 0:
        return False
    target = target.scaleb(_MAGNITUDE.get(m[3] or "", 0))
    step = Decimal(1).scaleb(target.adjusted() - sig + 1)
    have = _stated_numbers(source)
    return len(have) <= _MAX_DERIVE and any((x / step).to_integral_value(ROUND_HALF_UP) * step == target for x in have)


#: Derivations are tried only on sources with few numbers (an abstract): on a full text, pairs of
#: its thousands of numbers would ground almost anything.
_RATIO_UNIT = re.compile(r"(?:×|x|倍|times)$")
_PERCENT_UNIT = re.compile(r"(?:%|％|percent|per cent)$")
_POINTS_UNIT = re.compile(r"(?:pp|个百分点|个点|points?|pts)$|^±")


@lru_cache(maxsize=64)
def _derived(source: str) -> dict[str, tuple[float, ...]]:
    """Numbers a writer gets from two of the source's by simple arithmetic, by the unit written:
    a ratio ("1.9×", "40× too slow"), a share or relative change in percent, a difference in points."""
    out: dict[str, set[float]] = {"ratio": set(), "percent": set(), "points": set()}
    if len(_stated_numbers(source)) > _MAX_DERIVE:
        return {k: () for k in out}
    for sentence in re.split(r"(?<=[.!?])\s+|[。！？\n]", normalize(source)):  # pairs a sentence (and its clauses) compares
        base = [float(v) for v in numbers(sentence) if v]
        if _UP.search(sentence) and _DOWN.search(sentence):  # "0.21 above control … 0.09 below": a gap of 0.30
            out["points"] |= {a + b for a in base for b in base if a != b}
        for a in base:
            for b in base:
                if a != b:
                    out["ratio"].add(a / b)
                    out["percent"].add(100 * a / b)
                    if 0.5 <= a / b <= 2:  # a relative change compares numbers of one kind
                        out["percent"].add(100 * abs(a - b) / b)
                    out["points"].add(abs(a - b))
                    if a < 1 and b < 1:  # fractions compared in percentage points: 0.856 vs 0.842 is "1.4 points"
                        out["points"].add(100 * abs(a - b))
    return {k: tuple(sorted(v)) for k, v in out.items()}


#: Words that put a number on one side of a reference; a sentence with both sides states a gap
#: that is the sum of the two numbers.
_UP = re.compile(r"\b(?:higher|above|more|better|gains?|increase[ds]?|rises?|rose)\b|高于|高出|提升|提高|增加", re.I)
_DOWN = re.compile(r"\b(?:lower|below|less|worse|loss|decrease[ds]?|drops?|dropped|falls?|fell)\b|低于|下降|降低|减少", re.I)


def _derivable(shown: str, value: Decimal, source: str) -> bool:
    """True when a number derived from two source numbers, of the kind its unit says, rounds to the
    written one (to its last digit; a round multiplier such as "40×" may stand for 38-42)."""
    unit = shown.strip()
    kind = ("ratio" if _RATIO_UNIT.search(unit) else "percent" if _PERCENT_UNIT.search(unit)
            else "points" if _POINTS_UNIT.search(unit) else None)
    if kind is None:
        return False
    exp = value.as_tuple().exponent
    v = float(value)
    tol = 0.5 * 10 ** exp if exp <= 0 else 0.5
    if kind == "ratio" and exp > 0:  # Decimal normalises 40 to 4E+1: a round multiplier
        tol = 0.05 * v
    derived = _derived(source)[kind]
    i = bisect.bisect_left(derived, v - tol)
    return i < len(derived) and derived[i] <= v + tol


#: A round constant by its reference point ("50% is chance for a binary guess", "理想的 50%", "a perfect
#: 100%"): background the writer brings, not a result of the paper.
_CONSTANT = re.compile(r"(?<![\d.])(?:0|50|100)\s?%")
_REFERENCE = re.compile(r"\b(?:chance|random(?:ly)?|coin|guess(?:ing)?|perfect(?:ly)?|ideal(?:ly)?|optimal|upper bound|"
                        r"ceiling|trivial)\b|随机|猜|理想|完美|上限|最优|抛硬币", re.I)


def _background(text: str) -> set[str]:
    out = set()
    for clause in re.split(r"[.;!?。；！？,，\n]", normalize(text)):
        if _REFERENCE.search(clause):
            out |= {m.group(0).replace(" ", "") for m in _CONSTANT.finditer(clause)}
    return out


#: A size written as the last part of a name in the source ("Llama-3.1-8B", "Qwen2.5-7B-Instruct"):
#: NUMBER skips it (a hyphen comes before), but a writer says "the 8B model".
_NAME_SIZE = re.compile(r"-(\d+(?:\.\d+)?)\s?[kKMBT](?![A-Za-z0-9])")  # a literal first: fast on a full text
_SIZE_SHOWN = re.compile(r"[\d.,]+\s?[kKMBT]")


@lru_cache(maxsize=64)
def _name_sizes(source: str) -> frozenset[Decimal]:
    norm = normalize(source)
    return frozenset(Decimal(m[1]).normalize() for m in _NAME_SIZE.finditer(norm)
                     if m.start() and (norm[m.start() - 1].isalnum() or norm[m.start() - 1] == "."))


def ungrounded_numbers(text: str, source: str) -> list[str]:
    have = _source_numbers(source)
    background = _background(text) if "%" in text else set()
    norm = normalize(text)
    hedged = {m.group(0).strip() for h in _HEDGED.finditer(norm) if (m := NUMBER.match(norm, h.end()))}
    return list(dict.fromkeys(s.lstrip(_CHANGE_MARK) for s, v in specific_numbers(text)
                              if v not in have and not _derivable(s, v, source)
                              and s.lstrip(_CHANGE_MARK).replace(" ", "") not in background
                              and not (_SIZE_SHOWN.fullmatch(s.lstrip(_CHANGE_MARK)) and v in _name_sizes(source))
                              and not (s in hedged and _rounding_of(s, source))))


def names(text: str) -> list[str]:
    text = MATH.sub(" ", re.sub(r"https?://\S+|www\.\S+|`[^`\n]*`", " ", normalize(text)))
    return [m.group(0) for m in NAME.finditer(text)]


_CONTEXT = re.compile(r"dataset|benchmark|baseline|outperform|compared|comparison|versus|beats?\b|surpass|prior|\bagainst\b|"
                      r"previous|earlier|existing|state of the art|results? on|gains? on|accuracy on|scores? on|"
                      r"performance on|experiments? on|\bvs\.?\b|\bthan\b|"
                      r"evaluated on|tested on|trained on|state-of-the-art|sota|数据集|基准|基线|优于|超过|超越|相比|对比|"
                      r"评测|测试集|训练集|实验|(?<=[上在]) ?[A-Z]|[A-Za-z0-9] ?上(?:的|进行|测试|评估|取得)|\||"
                      # comparing with or training on something: what it names is a claim too
                      r"comparable to|on par with|fine-tuned on|相当|持平|媲美|不相上下|领先于?|落后于?|高于|低于|"
                      r"强于|弱于|胜过|击败|微调|训练|"
                      # where the paper's data or test material comes from: what it names is a claim too
                      r"\bscenes?\b|\bcorp(?:us|ora)\b|\bcensus\b|\batlas(?:es)?\b|\bcohorts?\b|"
                      r"\b(?:come|comes|came|drawn|sourced|collected|taken|gathered|scraped|curated|pooled) (?:\w+ )?from\b|"
                      r"语料库|(?:来自|取自)\s*[A-Z]", re.I)  # not 场景: also "a use case" (复杂交通场景中)


@lru_cache(maxsize=256)
def _compact(text: str) -> str:
    """Spaces and hyphens dropped: "HexFormer Hybrid" = "HexFormer-Hybrid", not "MUSIC" + "AVQA" anywhere."""
    return re.sub(r"[\s\-_/]", "", key(text))


@lru_cache(maxsize=64)
def _words(source: str) -> frozenset[str]:
    return frozenset(ascii_runs(normalize(source).lower(), digits=True))


#: A lower-case word hyphenated to a name ("-only", "-based", "-style", "-like", "-free"): a descriptor.
_DESCRIPTOR = re.compile(r"-[a-z]{2,}$")


def ungrounded_names(text: str, source: str) -> list[str]:
    """Name-like tokens that the source never mentions, where they name a dataset, benchmark or
    baseline (the sentence says so, or a table row), or carry a version number (GPT-4o, ResNet-50).
    A general acronym among applications (BIM, UAV) is world knowledge, not a claim about results."""
    src, src_words = key(source), _words(source)
    glossed = set(_GLOSS.findall(normalize(text)))
    out = []
    rows = [ln for ln in text.splitlines() if ln.lstrip().startswith("|") and re.search(r"\d", ln)]
    for sentence in re.split(r"(?<=[.!?])(?=\s|$)\s*|(?<=[。！？；;])\s*|\n", text):  # not inside "v1.5", "5.x"
        context = bool(_CONTEXT.search(sentence))
        row = bool(sentence.strip()) and any(sentence.strip() in r for r in rows)  # split at "vs." inside a row
        found = names(sentence)
        if context:  # capitalised words inside the sentence name things too (Crescendo, Replica)
            found += [w for w in re.findall(r"(?<=[\w,;:)] )[A-Z][a-z]{3,}\b(?!-[a-z])", normalize(sentence))
                      if w.lower() not in STOP_CAPS]
        for name in found:
            stem = _DESCRIPTOR.sub("", name)
            if stem != name:  # "RGB-only", "Transformer-based", "LLaMA-style": the stem is the name,
                if stem not in WORLD and (re.search(r"[A-Za-z]-?\d|\d[A-Za-z]", stem) or _CAMEL.fullmatch(stem)):
                    name = stem  # and it describes, so only a version or a coined CamelCase is a claim
                else:
                    continue
            parts = [p for p in re.split(r"[-.]", name) if p]
            if name in glossed:
                continue
            if (name in COMMON or name.rstrip("s") in COMMON or all(p in COMMON for p in parts)) and not (
                    row and name in METRICS):
                continue
            if not context and not (row and name in METRICS) and not re.search(r"[A-Za-z]-?\d|\d[A-Za-z]", name) and not (
                    _CAMEL.fullmatch(name) and name not in WORLD):
                continue
            if (key(name) in src or _compact(name) in _compact(source) or _percentile_in(name, source)
                    or _expanded_in(name, source)):
                continue
            out.append(name)
    return list(dict.fromkeys(out))


def _expanded_in(name: str, source: str) -> bool:
    """An acronym of words the source writes out: TWFE for "two-way fixed effects", VMs for
    "virtual machines", SF10 for "scale factor 10" (the writer's abbreviation, not a name the source lacks)."""
    numbered = re.fullmatch(r"([A-Z]{2,6})-?(\d+(?:\.\d+)?)", name)
    if numbered:
        words = r"[\s\-]+".join(rf"{c}[a-z]*" for c in numbered[1].lower())
        return re.search(rf"\b{words}\b[^.;]{{0,30}}?(?<![\d.]){re.escape(numbered[2])}(?![\d.]\d)", _lower(source)) is not None
    letters = name[:-1] if name.endswith("s") and name[:-1].isupper() else name
    if not (2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    pattern = r"[\s\-]+".join(rf"{c}[a-z]*" for c in letters.lower())
    return re.search(rf"\b{pattern}\b", _lower(source)) is not None


_PERCENTILE = re.compile(r"[pP](\d{1,2}(?:\.\d+)?)")


def _percentile_in(name: str, source: str) -> bool:
    """p99 is the source's "99th-percentile" (a metric spelled short, not a name)."""
    m = _PERCENTILE.fullmatch(name)
    return bool(m) and re.search(rf"(?<![\d.]){re.escape(m[1])}(?:st|nd|rd|th)?[- ]?percentile", _lower(source)) is not None


@lru_cache(maxsize=64)
def _lower(source: str) -> str:
    return normalize(source).lower()


#: The source only promises a release ("will be released upon publication")...
_FUTURE_SOURCE = re.compile(r"\bwill be (?:made )?(?:publicly |openly )?(?:released|available|open[- ]sourced|public)|"
                            r"\b(?:upon|after|following) (?:publication|acceptance)|\bto be released|\bcoming soon|"
                            r"\b(?:will|shall|plan to|intend to|aim to|are going to) (?:also )?(?:publicly |openly )?"
                            r"(?:release|open[- ]source|publish|make [\w -]{0,40}(?:public|available))\b|"
                            r"将(?:会)?(?:在[^。]{0,12})?(?:开源|公开|发布)")  # on lower-cased text
#: ...and says nowhere that anything is out already.
_PRESENT_SOURCE = re.compile(r"\b(?:is|are) (?:now )?(?:publicly |freely |openly )?available|\bwe (?:publicly )?release|"
                             r"\b(?:has|have) been released|\b(?:code|data)(?: and (?:code|data|models?))?\s*:\s*http|"
                             r"\bopen[- ]sourced (?:at|on|under)|已(?:经)?(?:开源|公开|发布)")  # on lower-cased text
#: A release claimed as done: past or present tense, not a promise.
_DONE_CLAIM = re.compile(r"(?:has|have) been (?:publicly )?(?:released|open[- ]sourced|made (?:public|available))|"
                         r"(?:is|are) (?:now |already )*(?:hosted |available )?(?:at|on) (?:github|gitlab|hugging ?face|https?://)|"
                         r"(?:is|are) (?:now )?(?:publicly |freely |already )?(?:available|released|open[- ]sourced?)\b"
                         r"(?! (?:upon|after|once|when|following))|(?:has|have|had) released|\breleased (?:the|their|its) "
                         r"(?:code|implementation|weights)|已(?:经)?[^。，；\n]{0,12}?(?:开源|公开|发布|放出)|放出了|"
                         r"(?:开源|公开|发布)了|" + _OUT_NOW, re.I)


#: "nothing is available yet", "no weights are released": a release denied, not claimed.
_NOTHING = re.compile(r"\b(?:nothing|none|no|not)\b[^.;,]*$|没有|尚未|未", re.I)


@lru_cache(maxsize=64)  # the same long source is asked for every part
def _code_in_source(source: str) -> tuple[bool, bool]:
    """(the source mentions code or a release at all, it only promises one)."""
    low = source.lower()
    future = bool(_FUTURE_SOURCE.search(low))
    return _near(low, _CODE_KEYS, _CODE_SOURCE, 130, 130), future and not _near(low, _PRESENT_KEYS, _PRESENT_SOURCE)


#: Words every match of _PRESENT_SOURCE contains: the regex only runs around them (a long full
#: text is scanned by str.find, ~100x faster than a regex with word boundaries).
_PRESENT_KEYS = ("available", "release", "http", "sourced", "已")


def _near(low: str, keys: tuple[str, ...], pattern: re.Pattern, before: int = 60, after: int = 40) -> bool:
    for k in keys:
        i = low.find(k)
        while i != -1:
            if pattern.search(low, max(0, i - before), i + len(k) + after):
                return True
            i = low.find(k, i + 1)
    return False


#: Public or open-source material the paper USED: a count, or a verb of use or origin, before the
#: adjective ("在 47 个公开 CT 数据集上", "using open-source models", "from open-source applications").
_USED = re.compile(r"(?:[\d一二两三四五六七八九十几数]\s*(?:个|种|项|套|款)|[多些]个?|(?:使用|采用|利用|基于|来自|从)[^。，；已\n]{0,12})$|"
                   r"\b(?:from|on|using|uses|used|with|across|over|of|existing|several|many|\d+)\s+(?:\w+\s+){0,2}$", re.I)
#: The claim match starts with the adjective, not with the paper's artefact or a verb of release.
_ADJECTIVE = re.compile(r"(?:公开|开源)(?:的)?(?=\s*[A-Za-z0-9\u4e00-\u9fff])(?!了)|open[- ]source\b(?!d)", re.I)


def ungrounded_code_claim(text: str, source: str) -> str | None:
    """A positive "code / data is released" sentence when the source says nothing of the kind,
    or says it is released when the source only promises a release."""
    mentions, promised_only = _code_in_source(source)
    if mentions and not promised_only:
        return None
    for sentence in re.split(r"(?<=[.!?。！？；;\n])", without_quotes(text)):
        for m in _CODE_CLAIM.finditer(sentence):
            # the negation that governs this claim stands just before it or in it ("does not say whether
            # the benchmark is released", "未开源"), not anywhere in a run-on line
            after = re.match(r"[^，,；;]{0,20}", sentence[m.end():]).end()  # not into the next clause ("，复现门槛不高")
            if (_NEGATION.search(sentence, max(0, m.start() - 25), m.end() + after)
                    or _UNSAID.match(sentence, m.end() + after)):
                continue
            if re.search(r"\b(?:once|until|if|when|after|before)\s+(?:the\s+|its\s+|their\s+)?$|(?:一旦|等到?|如果)$",
                         sentence[max(0, m.start() - 24):m.start()], re.I):
                continue  # "once the checkpoints can be downloaded, …": a condition, not a claim
            if _USED.search(sentence[max(0, m.start() - 24):m.start()]) and _ADJECTIVE.match(sentence, m.start()):
                continue  # "pretrained on 47 public CT datasets", "from open-source apps": material used
            if not promised_only or any(not _NOTHING.search(sentence, max(0, d.start() - 20), d.start())
                                        for d in _DONE_CLAIM.finditer(sentence)):
                return sentence.strip()[:60]
    return None


def in_source(quote: str, source_key: str) -> bool:
    q = key(quote).strip(".,;:…")
    q = re.sub(r"(?:\.\.\.|…)", "\0", q)
    return all(piece in source_key for piece in q.split("\0") if piece)


def latin_quote(q: str) -> bool:
    """Quoted English evidence (four words or more), not a Chinese phrase in ASCII quotes."""
    letters = len(LATIN.findall(q))
    return letters >= 0.6 * len(re.sub(r"\W", "", q) or "x") and len(q.split()) >= 4


#: Words in a quote from which it reads as the paper's words whoever introduces it.
MIN_QUOTE_WORDS = 7
#: What presents a shorter quote as the paper's words: a verb of saying, the source named, a colon.
_ATTRIBUTION = re.compile(r"\b(?:says?|said|states?|stated|writes?|wrote|reports?|reported|claims?|claimed|notes?|noted|"
                          r"puts? it|argues?|argued|describes?|described|calls?|called|terms?|termed|concludes?|"
                          r"concluded|according to|in (?:the|their) (?:own )?words|quotes?|quoted|verbatim|evidence|"
                          r"abstract|authors?'?|paper)\b|原文|摘要|作者|证据|写道|指出|称|[:：]\s*$", re.I)


#: Words after a quote that make it the name of a kind of thing ("…"-style prompts, 「…」方案).
_KIND_AFTER = re.compile(r"\s*-?(?:style|type|like|kind|sort|flavou?red)\b|\s*(?:方案|式|风格|类|型|路线|范式|思路)", re.I)


def ungrounded_quotes(text: str, source: str) -> list[str]:
    """Quoted English that is not in the source, when it is offered as the paper's words: a long
    quote, or a short one after a verb of saying or the source named. A short phrase in quotes
    without that ("separates "the judge is wrong" from …", telling a model "ignore …") is the
    analysis's own wording of an idea, not evidence."""
    src, norm = key(source), normalize(text)
    out = []
    for m in _QUOTE_PAIR.finditer(norm):  # pair every quote mark, short ones too: after "twin", the next
        q = m[1]                           # mark opens a quote, it does not close one
        if len(q) < 12 or not latin_quote(q) or in_source(q, src):
            continue
        if (CJK.search(q) and not CJK.search(source)) or _KIND_AFTER.match(norm, m.end()):
            continue  # 「RGB 主干 + CTC」方案, "please ignore …"-style prompting: the writer's label for a kind
        if len(q.split()) >= MIN_QUOTE_WORDS or _ATTRIBUTION.search(norm[max(0, m.start() - 40):m.start()]):
            out.append(q)
    return out


def claim_numbers_in_evidence(claim: str, evidence: str) -> list[str]:
    have = _source_numbers(evidence)
    # a size that names a model ("7B 模型", "the 70B model") is what the claim is about, not its result
    return [s for s, v in specific_numbers(claim) if v not in have and not re.fullmatch(r"[\d.,]+\s?[kKMB]", s)]


def ground_findings(raw: object, source_text: str) -> tuple[list[Finding], list[str]]:
    """Keep findings whose evidence is a verbatim quote of the source (case, width, whitespace
    and quote style aside) and whose claim's numbers are in that evidence; report the others."""
    kept, dropped = [], []
    src = key(source_text)
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        claim, evidence = str(item.get("claim", "")).strip(), str(item.get("evidence", "")).strip()
        quote = normalize(evidence).strip("\"'“”「」 ")
        if (claim and len(quote) >= MIN_EVIDENCE_CHARS and in_source(quote, src)
                and not claim_numbers_in_evidence(claim, quote)):
            kept.append(Finding(claim=claim, evidence=quote))
        else:
            dropped.append(evidence[:60])
    return kept, dropped


#: A pointer into the paper's body: "Table 3", "Fig. 2", "Section 4.1", "Appendix B", "表 3", "第 4 节".
_REF = re.compile(r"\b(?:Table|Tab\.|Figure|Fig\.|Section|Sec\.|§|Appendix|Eq\.|Equation|Algorithm|Alg\.|Theorem|Lemma|"
                  r"Proposition|Corollary)\s*~?\(?([A-Z]?\d+(?:\.\d+)*|[A-H]\b|[IVX]+\b)|"
                  r"(?:(?<![代发列外报])表|(?<![试意地企构])图|公式|算法|定理|引理)\s*(\d+)|第\s*(\d+)\s*[节章]|附录\s*([A-Z]\d*)")
_REF_KIND = (r"(?:table|tab\.|figure|fig\.|section|sec\.|appendix|eq\.|equation|algorithm|alg\.|theorem|lemma|"
             r"proposition|corollary|§)")


def ungrounded_refs(text: str, source: str) -> list[str]:
    """Pointers to tables, figures, sections or equations the source does not have: an analysis
    written as if from the full text when only the abstract was there, or an invented table.
    The source has it when it names it (any kind: "Fig. 3" grounds "Table 3" too, leniently) or
    has a heading numbered so ("3 Method", "## A Proofs")."""
    out = []
    low = _lower(source)
    for m in _REF.finditer(normalize(text)):
        num = next(g for g in m.groups() if g).lower()
        n = re.escape(num)
        if re.search(rf"{_REF_KIND}\s*~?\(?{n}\b", low) or re.search(
                rf"(?:^|\n)\s*#*\s*{n}\.?\s+[a-z]", _raw_lower(source)):
            continue
        out.append(m.group(0))
    return list(dict.fromkeys(out))


@lru_cache(maxsize=64)
def _raw_lower(source: str) -> str:
    return source.lower()


#: Small counts are not "specific" for `ungrounded_numbers` (a list of three, "two stages"), but a count
#: of the paper's things is a claim: "9 received CVEs", "23 个漏洞", "30 FPS", "on 19/27 datasets". A count
#: is an integer below 100 with what it counts after it: a plural noun or an acronym after at most two
#: words (en), a measure word (zh), a unit; or either side of a fraction.
_COUNTED = re.compile(
    r"(?<![\w.,/\-#])(\d{1,2})(?![\w.,%/\-])(?!\s*(?:times|fold|x|×|倍)\b)(?:"
    r"\s+(?:[A-Za-z][a-z\-]*\s+){0,3}(?:[a-z]{3,}(?<!ss)s|[A-Z]{2,}s?)\b|"  # 19 previously unknown bugs, 9 received CVEs,
                                                                       # 16 Arabic and multilingual models
    r"\s?(?:个|种|项|篇|款|套|类|组|条|次|名|位|家|轮|张|幅|份|例|台|块|所|门|段)|"  # 23 个漏洞
    r"\s?(?:[A-Z]{2,}s?|fps|Hz|kHz|ms|GB|MB|TB|kbps|Mbps)\b)"  # 30 FPS, 16 GB
    r"|(?<![\w.,/\-#])(\d{1,2})\s?/\s?(\d{1,3})(?![\w.,/%\-])")  # 19/27 datasets
#: What a number names rather than counts: a part, a step, a version ("Part 2 proposes", "Table 3 lists").
_NOT_COUNT = re.compile(r"(?:part|section|table|figure|fig\.?|step|phase|stage|eq\.?|equation|chapter|appendix|"
                        r"version|v|level|round|turn|layer|第|top|rank(?:ed)?|no\.?|#)\s*$", re.I)
#: Counts below this are how a writer structures its own text ("two stages", "3 settings").
MIN_COUNT = 5
_WRITEUP_UNITS = re.compile(r"\b(?:parts?|sections?|points?|items?|bullets?|sentences?|paragraphs?|aspects?|findings?|"
                            r"steps?|ways?|reasons?|things?|lines?|words?)$|(?:部分|点|条|句|段|方面)$", re.I)
_SPELLED = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                       "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}
_SPELLED_ZH = {w: i for i, w in enumerate("零一二三四五六七八九十")} | {"两": 2}


_SPELLED_BY_VALUE = {v: w for w, v in _SPELLED.items()}
_SPELLED_ZH_BY_VALUE = {v: w for w, v in _SPELLED_ZH.items() if w != "两"}


@lru_cache(maxsize=256)
def _count_in(n: int, source: str) -> bool:
    """The source states the integer n: in digits (any digit run: "40-scan", "(13)"), or spelled ("five", "五个").
    Asked per count the analysis states (a few), not per number of a long source."""
    low = _lower(source)
    if str(n) in low and re.search(rf"(?<!\d){n}(?!\d)", low):  # str.find first: ~10x faster on a full text
        return True
    word = _SPELLED_BY_VALUE.get(n)
    if word and word in low and re.search(rf"\b{word}\b", low):
        return True
    zh = _SPELLED_ZH_BY_VALUE.get(n) or ("两" if n == 2 else None)
    return bool(zh) and re.search(rf"{zh}(?:个|种|项|篇|款|类|组|条|次|名|位|轮)", low) is not None


#: A verb that divides the paper's object into pieces ("切成 64 段", "分为 8 段"): the 段 after it are the
#: paper's segments, not the writer's paragraphs.
_DIVIDED = re.compile(r"(?:切分|划分|切|分|拆|均分)(?:成|为)\s*$")


def ungrounded_counts(text: str, source: str) -> list[str]:
    """Counts of the paper's things (bugs, models, datasets, frames per second) the source never states."""
    text = MATH.sub(" ", normalize(text))
    text = re.sub(r"^\s*(?:#+\s*)?(?:\*\*)?\s*\d+(?:[.)](?=\s|\*)|、)", " ", text, flags=re.M)
    out = []
    for m in _COUNTED.finditer(text):
        if _NOT_COUNT.search(text, max(0, m.start() - 12), m.start()):
            continue
        shown = [int(g) for g in (m[1], m[2], m[3]) if g]
        if m[1] and (int(m[1]) < MIN_COUNT or (_WRITEUP_UNITS.search(m.group(0))
                                               and not _DIVIDED.search(text, max(0, m.start() - 6), m.start()))):
            continue  # "2 stages", "in 3 parts": the writer's own way of counting, not the paper's number
        # "87 条路线中 19 条", "19 of the 87": the rest of a total the source splits (87 and 68) is grounded
        totals = {int(t) for t in re.findall(r"\d+", text[max(0, m.start() - 16):m.start()])}
        if any(not _count_in(n, source) and not any(_count_in(t, source) and t > n and _count_in(t - n, source)
                                                   for t in totals) for n in shown):
            out.append(m.group(0).strip())
    return list(dict.fromkeys(out))


#: A number with the words the source writes after another number ("8% extra latency" where the source
#: has "3% extra latency"): the writer changed the number of a statement the source makes.
#: Longer than an abstract (with its title and some slack): a full text, whose statements repeat.
_MAX_STATED_CHARS = 6000
_STATED = re.compile(r"(?<![\w.,\-/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(\s?%)?\s+([a-z]{3,})\s+([a-z]{3,})\b")
_FILLER = set("the and for with from that this than into over under more less are was were has have had its their "
              "our of in on at to by per".split())


def conflicting_numbers(text: str, source: str) -> list[str]:
    """Numbers followed by two words that follow only other numbers in the source."""
    if len(source) > _MAX_STATED_CHARS:  # a full text says "top-5 … candidates" and "1,840 … candidates"
        return []                          # in different places: only an abstract's statements are few
    low = _lower(source)
    out = []
    text_low = MATH.sub(" ", normalize(text)).lower()
    for m in _STATED.finditer(text_low):
        w1, w2 = m[4], m[5]
        if w1 in _FILLER or w2 in _FILLER:
            continue
        v = _value(m[1], m[2])
        pattern = (r"(?<![\w.,\-/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?" + (r"\s?%" if m[3] else r"(?!\s?%)")
                   + rf"\s+{w1}\s+{w2}\b")
        seen = [_value(s[1], s[2]) for s in re.finditer(pattern, low)] if w1 in low else []
        if re.search(r"\b(?:top|first|last|best|worst)[\s\-]*$", text_low[max(0, m.start() - 8):m.start()]):
            continue  # "top 5 retrieval candidates": a setting, not the statement's number
        # the same statement with another number of its size ("3% extra latency"), not a count of another kind;
        # nor the gap between two of them ("0.21 above and 0.09 below": "a gap of 0.30 standard deviations");
        # nor a number the source states with one of the two words ("4.8 points" stated: "4.8 WER points" is it)
        if v and v not in seen and any(s and v / 10 <= s <= v * 10 for s in seen) and not _gap_of(v, seen) and not re.search(
                rf"(?<![\w.,]){re.escape(m.group(0)[:m.end(2) - m.start() if m[2] else m.end(1) - m.start()])}"
                rf"(?![\d.]\d)\s?%?\s+(?:{w1}|{w2})\b", low):
            out.append(m.group(0).strip())
    return list(dict.fromkeys(out))


def _gap_of(v: Decimal, seen: list) -> bool:
    """`v` is the sum or difference of two of the source's numbers (to the digits it is written with)."""
    tol = Decimal(5).scaleb(v.as_tuple().exponent - 1) if v.as_tuple().exponent <= 0 else Decimal("0.5")
    vals = [s for s in seen if s is not None]
    return any(abs(v - (a + b)) <= tol or abs(v - abs(a - b)) <= tol for i, a in enumerate(vals) for b in vals[i + 1:])


#: A setting written `name = value` ("epsilon = 4", "ε=8", "k = 10"): the name's value in the source.
_SETTING = re.compile(r"(?<![\w\\])\\?([A-Za-z][A-Za-z_]{0,11}|[\u0370-\u03ff])\s*[=＝]\s*(\d+)(?:\.(\d+))?(\s?%)?(?![\d.]*\w)")
_GREEK = dict(zip("αβγδεϵηθκλμνρστφω", "alpha beta gamma delta epsilon epsilon eta theta kappa lambda mu nu rho sigma "
                                      "tau phi omega".split()))


def _settings(text: str) -> dict[str, set[Decimal]]:
    found: dict[str, set[Decimal]] = {}
    norm = normalize(text)
    spans = {}  # the pattern only around each "=" (a full text has few; a scan of all of it costs ~3 ms)
    for eq in re.finditer(r"[=＝]", norm):
        for m in _SETTING.finditer(norm, max(0, eq.start() - 16), eq.end() + 24):
            if m := _SETTING.match(norm, m.start()):  # whole, past the window's end ("0.1" cut to "0")
                spans[m.span()] = m
    for m in spans.values():
        name = m[1] if len(m[1]) == 1 and m[1].isascii() else _GREEK.get(m[1], m[1]).lower()
        if (v := _value(m[2], m[3])) is not None:  # "τ = 18%" is "τ = 0.18"
            found.setdefault(name, set()).add((v / 100).normalize() if m[4] else v)
    return found


def conflicting_settings(text: str, source: str) -> list[str]:
    """`name = value` where the source sets the same name only to other values ("epsilon = 4" against the
    source's "epsilon = 8"): a changed parameter, too small for the number checks to see."""
    if "=" not in text and "＝" not in text:
        return []
    stated = _settings(source)
    return [f"{name} = {v:f}" for name, values in _settings(text).items() if name in stated
            for v in sorted(values - stated[name])]


#: A count in digits or words ("12", "eleven", "十二").
_NUM = (r"\d{1,3}|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
        r"sixteen|seventeen|eighteen|nineteen|twenty|十[一二三四五六七八九]?|[一二两三四五六七八九]十?[一二三四五六七八九]?")
#: "11 of 12", "eleven out of twelve", "11/12"; "12 个设置中有 10 个", "十二项中的十一项".
_FRACTION_EN = re.compile(rf"(?<![\w.,/\-])({_NUM})\s+(?:out\s+)?of\s+(?:the\s+|all\s+)?({_NUM})(?![\w.,%])|"
                          rf"(?<![\w.,/\-])(\d{{1,3}})\s?/\s?(\d{{1,3}})(?![\w.,/%\-])", re.I)
_FRACTION_ZH = re.compile(rf"({_NUM})\s*(?:个|项|种|类|组|条|次|篇|款|套)?[^\d。，；,;]{{0,10}}?中(?:的|有|共有)?\s*({_NUM})\s*"
                          r"(?:个|项|种|类|组|条|次|篇|款|套)")
#: A count right before a plural noun: "five environments", "4 environments".
_COUNT_NOUN = re.compile(rf"(?<![\w.,/\-])({_NUM})(?:\s+|-)([a-z]{{4,}}s)\b", re.I)
#: A count that is part of a total, not the total: "two of the four environments", "the other three tasks".
_PART_OF = re.compile(r"\b(?:other|remaining|first|last|top|additional|extra|more|new|further|another)\s*$", re.I)


#: The things papers count, in Chinese, with the English plurals an English source counts them by:
#: "十轮" against "six turns", "5 个环境" against "four environments".
_ZH_NOUNS = {"轮": ("turns", "rounds"), "层": ("layers",), "步": ("steps",), "个类别": ("categories", "classes"),
             "类": ("classes", "categories"), "个环境": ("environments",), "个数据集": ("datasets",),
             "个模型": ("models",), "种语言": ("languages",), "个任务": ("tasks",), "个基准": ("benchmarks",),
             "个场景": ("scenes", "scenarios"), "个领域": ("domains",), "个智能体": ("agents",), "个阶段": ("stages",),
             "名参与者": ("participants",), "名用户": ("users",), "个城市": ("cities",), "个国家": ("countries",),
             "个站点": ("sites",), "个台站": ("stations",), "个设置": ("settings",), "种攻击": ("attacks",),
             "个游戏": ("games",), "种疾病": ("diseases",), "家医院": ("hospitals",), "个专家": ("experts",)}
_ZH_COUNT = re.compile(rf"(?<![\d.第])({_NUM})\s*(" + "|".join(sorted(map(re.escape, _ZH_NOUNS), key=len, reverse=True))
                       + r")(?![\u4e00-\u9fff]{0,1}(?:中|里|之))")


def _num(word: str) -> int | None:
    w = word.lower()
    if w.isdigit():
        return int(w)
    if w in _SPELLED:
        return _SPELLED[w]
    if all(c in _SPELLED_ZH for c in w) and w:
        digits = [_SPELLED_ZH[c] for c in w]
        if "十" not in w:
            return digits[0] if len(digits) == 1 else None
        tens, _, ones = w.partition("十")
        return (_SPELLED_ZH[tens] if tens else 1) * 10 + (_SPELLED_ZH[ones] if ones else 0)
    return None


def _counted_near(v: int, stem: str, source: str) -> bool:
    """The source gives the count v to a phrase with the noun's stem in it ("11 judge models", "eleven
    held-out judges")."""
    forms = "|".join(re.escape(f) for f in (str(v), _SPELLED_BY_VALUE.get(v, "")) if f)
    return re.search(rf"(?<![\w.,])(?:{forms})(?:\s+|-)(?:[\w-]+\s+){{0,2}}{re.escape(stem)}", source, re.I) is not None


def _fractions(text: str) -> set[tuple[int, int]]:
    out = set()
    for m in _FRACTION_EN.finditer(text):
        a, b = (m[1], m[2]) if m[1] else (m[3], m[4])
        if (x := _num(a)) is not None and (y := _num(b)) is not None and x <= y:
            out.add((x, y))
    for m in _FRACTION_ZH.finditer(text):
        if (y := _num(m[1])) is not None and (x := _num(m[2])) is not None and x <= y:
            out.add((x, y))
    return out


def conflicting_counts(text: str, source: str) -> list[str]:
    """A count the source states with another value: a share of the same total ("10 of 12 settings" where the
    source has "11 of 12"), or a count of the same things ("five environments" where the source has "four
    environments" and never five). Counts in words too, in either language."""
    if len(source) > _MAX_STATED_CHARS:  # a full text counts the same things in many ways
        return []
    plain, src = without_quotes(MATH.sub(" ", normalize(text))), normalize(source)
    out = []
    stated = _fractions(src)
    for x, y in _fractions(plain) - stated:
        shares = {s for s, t in stated if t == y}
        if shares and x not in shares and y - x not in shares:  # "loses in 2 of 9" is the rest of "wins in 7 of 9"
            out.append(f"{x} of {y}")
    counts: dict[str, set[int]] = {}
    for m in _COUNT_NOUN.finditer(src):
        if (v := _num(m[1])) is not None:
            counts.setdefault(m[2].lower(), set()).add(v)
    for m in _COUNT_NOUN.finditer(plain):
        v, noun = _num(m[1]), m[2].lower()
        if v is None or v < 2 or noun not in counts or v in counts[noun]:
            continue
        before = plain[max(0, m.start() - 24):m.start()]
        if _PART_OF.search(before) or re.search(r"\b(?:of|among|across|out of)\s+(?:the\s+)?$", before, re.I):
            continue
        if _counted_near(v, noun[:-1], src):
            continue  # "11 judges" for the source's "11 judge models": the same count, other words
        out.append(m.group(0))
    for m in _ZH_COUNT.finditer(plain):
        v, nouns = _num(m[1]), [n for n in _ZH_NOUNS[m[2]] if n in counts]
        if v is None or v < 2 or not nouns or any(v in counts[n] or _counted_near(v, n[:-1], src) for n in nouns):
            continue
        if re.search(r"(?:其他|其余|另外|另|前|后|最后|多|额外|新增?)\s*$", plain[max(0, m.start() - 4):m.start()]):
            continue
        out.append(m.group(0))
    return list(dict.fromkeys(out))
