"""What a question asks and what it is about, read from its structure.

`parse(question)` -> `Ask(intent, about, cue)` or None (no reading: the embedding classifier
decides). The question is normalised first (`text.normalise`: shorthand, contractions, typos);
a question that asks only about the acquisition ("Is this axial?", "What sequence is this?") is
"modality"; otherwise the modality, sequence and plane words are taken out (`strip_modality`)
so that they cannot change what is asked.

Then, in this order (the first reading that applies wins):

1. out of scope: requests that are not about a scan (code, arithmetic, drugs and doses,
   treatment, another body part, general health);
2. next steps: what to do next, further imaging, follow-up, referral;
3. modality: the acquisition itself (only the modality words, or an acquisition noun asked
   about: plane, sequence, spacing, slice thickness, orientation, display convention);
4. what it is about: the similar cases -> "similar_cases", the pseudo-healthy reconstruction
   -> "pseudo_healthy", the heatmap / overlay -> "heatmap" (whatever is asked about them);
5. report (write / draft / summarise the findings, impression, report);
6. confidence (how sure, reliability, false positives, could something have been MISSED);
7. count (how many, one or several, others besides F1);
8. side (left / right / hemisphere, in either frame);
9. location (where, which part, front / back, deep / superficial, lobe);
10. size (how big, measurements, bigger than 1 cm);
11. intensity (bright / dark, hyper- / hypointense, signal), unless the question asks whether
    such a thing exists ("Any signal change?" is presence);
12. cause (what could it be, differential, "is F1 a metastasis?", "is it malignant?");
13. presence (is there an abnormality / lesion / tumour, is it normal, did the detector find
    anything).

"About" is "finding:Fk" for a finding named by id, "cases", "pseudo_healthy", "map", "none"
(out of scope) or "image" (the scan and its main finding).

Also here: `yes_no_question` (is the question answered by yes or no) and `asks_normal` (does
"yes" mean normal: "Is this MRI normal?", "Can you rule out a lesion?", "Is there no lesion?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.responders.intents.text import (
    has_modality_words,
    modality_only,
    normalise,
    strip_modality,
)


@dataclass(frozen=True)
class Ask:
    """One reading of a question: the intent asked, what it is about, the cue that decided."""

    intent: str
    about: str = "image"
    cue: str = ""


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(parts))


# ----------------------------------------------------------------------------- vocabulary
FINDING_ID = re.compile(r"\b[fw](\d{1,3})\b")
# what a question can point at when it asks about "the lesion": a pronoun, an id, a noun
LESION_NOUN = (
    r"(?:lesions?|findings?|abnormalit(?:y|ies)|anomal(?:y|ies)|regions?|areas?|spots?|foci|"
    r"focus|masse?s?|things?|hyperintensit(?:y|ies)|hypointensit(?:y|ies)|blobs?|patch(?:es)?|"
    r"nodules?|tumou?rs?|growths?|ones?|deviations?|changes?|signal change|bits?)"
)
REFERENT = rf"(?:it|this|that|these|those|they|f\d+|w\d+|(?:the|this|that) (?:\w+ )?{LESION_NOUN})"
# kinds of finding a neuroradiologist may ask about by name (UK spellings: `text` maps the US ones)
FINDING_TERMS = (
    r"(?:microbleed\w*|micro-bleed\w*|haemosiderin|blood( products)?|subdural\w*|"
    r"extradural\w*|epidural\w*|subarachnoid\w*|intraparenchymal|shearing( (injur(y|ies)|lesions?))?|axonal injury|"
    r"trauma\w*|pneumocephal\w*|calcif\w*|lacun\w*|gliosis|gliotic|encephalomalaci\w*|leukoaraiosis|"
    r"small vessel (ischaemic )?(disease|change\w*|ischaemi\w*)|white matter (disease|change\w*)|"
    r"microvascular|microangiopath\w*|fazekas|post-?surgical|surgical (change\w*|cavity|bed)|"
    r"micro-?ha?emorrhag\w*|secondar(y|ies)|deposits?|post-?traumatic|"
    r"dawson\W?s fingers|aneurysm\w*|malformations?|avms?|cavernom\w*|angiom\w*|"
    r"glioblastom\w*|metastas\w*|lymphom\w*|tumefactive|collections?|empyem\w*|"
    r"infect\w*|encephalitis|cerebritis|meningitis|thrombos\w*|emboli\w*|"
    r"hypoxic(-ischa?emic)? (brain )?(injur(y|ies)|damage)|hypoxic\w*|necros\w*|necrotic|dead (brain|tissue)|scar(s|ring|red)?\b|resection (cavity|cavities|bed)|"
    r"cavit(y|ies)|resection|"
    r"post-?operative|leu[ck]o-?encephalopath\w*|lepto-?mening\w*( (disease|spread|enhancement|"
    r"metastas\w*))?|"
    r"oedema\w*|swelling|inflammat\w*|vasculitis|hamartom\w*|dysplasi\w*|heterotopi\w*|"
    r"ventriculomegaly|hydroceph\w*|dermoids?|epidermoids?|lipomas?|fat[- ]containing)"
)
# children's tumours and malformations (both things that can be present and diagnoses)
CHILDHOOD_DIAGNOSES = (
    r"dnets?|ganglioglioma\w*|gangliocytoma\w*|dysembryoplastic\w*|cortical dysplasia\w*|fcd|"
    r"hamartoma\w*|tubers?|heterotopi\w*|polymicrogyri\w*|schizencephal\w*|medulloblastoma\w*|"
    r"ependymoma\w*|astrocytoma\w*|craniopharyngioma\w*|germinoma\w*"
)
# a thing that can be present on a scan (presence questions)
PATHOLOGY = (
    r"(?:abnormal\w*|anomal\w*|lesions?|tumou?rs?|masse?s?\b|neoplas\w*|growths?|cancer\w*|"
    r"malignan\w*|metasta\w*|patholog\w*|diseases?|strokes?|infarct\w*|ischaemi\w*|bleed\w*|"
    r"haemorrhag\w*|haematoma\w*|plaques?|demyelinat\w*|multiple sclerosis|sclerosis|"
    r"oedema|cysts?|abscess\w*|hyperintensit\w*|hypointensit\w*|nodules?|signal changes?|"
    r"space occupying|spots?|foci|findings?|wrong|off|odd|weird|strange|unusual|"
    r"suspicious\w*|concerning|worrying|pathological|gliom\w*|lymphom\w*|meningiom\w*|"
    r"sol\b|damage\w*|injur\w*|atroph\w*|haemorrhag\w*|contusions?|hits?|craniotom\w*|"
    r"craniectom\w*|burr holes?|resection\w*|outliers?|recurren(ce|t)\w*|regrowth|"
    # children's tumours and malformations: "a DNET or a ganglioglioma?", "cortical tubers?"
    rf"{CHILDHOOD_DIAGNOSES}|"
    # more kinds of finding, so that "Any X?" about them is a presence question
    rf"{FINDING_TERMS})"
)
# named diagnoses: "tumour or MS?" asks which one it is (cause)
DIAGNOSIS = (
    r"(?:tumou?rs?|masse?s?|cancers?|metasta\w+|strokes?|infarct\w*|bleeds?|haemorrhag\w*|"
    r"multiple sclerosis|plaques?|demyelinat\w*|cysts?|abscess\w*|gliom\w*|glioblastom\w*|"
    r"lymphom\w*|meningiom\w*|infection|inflammation|vasculitis|encephalitis|cavity|primary|"
    rf"normal variant|scar(?:s|ring|red)?\b|gliosis|oedema|malformation|aneurysm|{FINDING_TERMS}|"
    rf"{CHILDHOOD_DIAGNOSES})"
)
DIAGNOSIS_CHOICE = re.compile(rf"\b{DIAGNOSIS}\b,? (or|vs\.?|versus) (an? |the )?{DIAGNOSIS}\b")
NORMAL_WORD = (
    r"(?:normal|healthy|unremarkable|fine|ok|okay|intact|clean|clear|benign-looking|kosher|"
    r"good to go|grand(?! mal))"
)

# "should she see a neurologist?": a referral (a next-steps cue the learned reader keeps)
_REFERRAL = (
    r"\b(see|be seen by|consult|get) (a |an )?(specialist|neurologist|neurosurgeon|neurosurgery|"
    r"neurology|oncologist|oncology)\b"
)
# ----------------------------------------------------------------------------- 1. out of scope
BODY_PART = (
    r"\b(knee|chest|lungs?|spine|spinal|abdom\w*|liver|kidneys?|heart|cardiac|hip|shoulder|"
    r"ankle|wrist|elbow|pelvi\w*|prostate|breast|mammo\w*|dental|teeth|tooth|retina\w*|"
    r"skin|moles?|ecg|ekg|colonoscop\w*|thyroid|foot|feet|fracture|cardiothoracic|"
    r"mediastin\w*|costophrenic|pleura\w*|ribs?)\b"
)
OOS = _rx(
    # code, computers, arithmetic, general knowledge, chat
    r"\b(python|javascript|java|sql|coding|script|programming|learning[- ]rate|book (the |a )?(\w+ )?room|hyper-?parameters?|compile|debug|"
    r"install\w*|pip|pytorch|tensorflow|github|excel|spreadsheet|regex|linux)\b|"
    r"(?<!colour )\bcode\b",
    r"\b(translate|translation)\b|\binto (french|german|spanish|english|italian|chinese)\b",
    r"\b\d+(\.\d+)? ?(times|plus|minus|divided by|multiplied by|x|\*|\+|/(?!(12|52|7)\b)) ?\d+\b",
    r"\b(weather|forecast|joke|poem|haiku|limerick|song|recipe|cook|cooking|stock|lottery|"
    r"football|soccer|capital of|president|election|(?<!good )(?<!bad )news|movie|film recommendation|"
    r"restaurant|what time|time zone|holiday|vacation|buy|purchase|price|prices|cheapest|"
    r"taxe?s|salary|mortgage)\b",
    r"\b(paper|article|publication|literature|essay|email|e-mail|letter to)\b",
    r"\b(bash|shell|powershell|one-liner|command line|terminal|rename (the )?files)\b",
    r"\b(nice|who|aan|acr|esr|nccn) guidelines?\b|\b(asthma|copd|diabetes|hypertension|"
    r"eczema|arthritis)\b",
    r"\bstate[- ]of[- ]the[- ]art\b|\bsota\b|\bbrats\b|\bleaderboards?\b|"
    r"\bfill (in |out )?(the |a |an |this |our )?(\w+ )?(form|paperwork)s?\b|"
    r"\b(lunch|dinner|breakfast|menu|canteen|cafeteria|car park|parking|wi-?fi|password|rota|"
    r"imagenet|resnet\S*|benchmark (a|an|the) (\w+ )?(model|network|resnet\S*|gpu|cpu))\b",
    r"\b(serum|plasma|sodium|potassium|creatinine|glucose|haemoglobin|hemoglobin|inr|crp|"
    r"cholesterol|blood tests?|lab (tests?|values?|results?)|(normal|reference) range)\b",
    # drugs, doses, prescriptions, treatment decisions
    r"\b(dose|doses|dosage|dosing|mg|milligrams?|mcg|\d+ ?kg|tablets?|pills?|(?<!internal )"
    r"(?<!external )(?<!extreme )capsules?|"
    r"prescri\w*|medication\w*|medicine|drugs?|side effects?|interact\w*|overdose)\b",
    r"\b(can|should|may) (i|we|he|she|they) (take(?! (it|this|that|the \w+) as\b)|give(?! (\w+ ){0,2}(weight|credence|importance|priority|attention))|administer|"
    r"stop(?! worr)|start|drink|drive)\b"
    r"(?! (contrast|gadolinium|a contrast))",
    r"\b(how|what|which) (do|should|would|can) (i|we|you) (treat|cure|manage (?:a|my|the "
    r"pain|pain|headache|migraine))\b",
    r"\b(treat(ment)? (for|of|options?)|which treatment|what treatment|cure for|therapy for)\b",
    # the person asking, not the scan
    r"\b(am i (going to|dying|sick|ill|ok)|will i (die|be ok|recover|survive)|"
    r"life expectancy|my (headache|migraine|pain|doctor|insurance|appointment|symptoms?))\b",
    r"\b(prognosis|survival|life expectancy|curable|terminal|recover(y)?|will (he|she|they|the "
    r"patient) (die|recover|survive|live|be ok))\b|\bsafe to (drive|fly|work|exercise|drink)\b",
    r"\b(book|schedule|cancel) (an? |my )?appointment\b|\binsurance\b|\bbilling\b|"
    r"\bhow much (does|do|did|will|would|is) (\w+ ){1,4}cost\b|\bhow much (\w+ ){1,2}(would|should|"
    r"do|can) (you|i|we) (start|give|prescribe|load|use)\b|"
    r"\b(book|schedule|reserve|cancel|reschedule) (me |us )?(an? |the |my )?(\w+ ){0,2}(slot|"
    r"appointment|room|session)\b",
    r"\b(nothing to do with|unrelated to|not related to|off[- ]topic (from|for))( this| the)? "
    r"(scan|image|case|patient|slice|study)\b",
    r"\b(discharge|referral|sick|cover|clinic) (letter|summary|note)\b|\bwrite (me )?(my|a|an) "
    r"(\w+ )?(letter|email|note|essay|story|poem|song|tweet|speech)\b|"
    r"\b(good|best|nearest|local|cheap|cheapest) (doctor|neurologist|neurosurgeon|radiologist|"
    r"hospital|clinic|surgeon|specialist|book|app|course|textbook)s?\b",
    # other body parts and other kinds of image
    BODY_PART,
)
# general health questions with nothing to do with this scan ("Is coffee bad for the brain?")
GENERAL_HEALTH = _rx(
    r"\b(coffee|caffeine|alcohol|smoking|diet|food|sleep|exercise|vitamins?|supplements?|"
    r"migraine|headaches?|back pain|pain relief|symptoms? of|risk factors?|prevent\w*|"
    r"vaccin\w*|epidemiolog\w*|incidence|prevalence)\b",
    r"\b(good|bad|healthy|harmful) for (the|your|my) (brain|health|body|memory)\b",
    r"\b(what|which) (are|is) (the )?(usual |common |typical |main )?(symptoms?|signs?|risk "
    r"factors?|treatments?|prognosis|incidence|prevalence|survival|causes?|genetics|"
    r"epidemiology) (of|for)\b",
    r"\bhow (common|rare|frequent|often) (is|are|do|does)\b",
    # "the history of MRI", not a patient's "hx of stroke" (a clinical vignette)
    r"\bwho (invented|discovered|developed|created|founded|wrote)\b|\bthe history of\b",
)
# the words that tie a question to this scan
ANCHOR = re.compile(
    r"\b(this|these|here|it|its|scan|image|slice|picture|study|lesions?|findings?|"
    r"abnormalit\w*|anomal\w*|regions?|areas?|spots?|foc(us|i)|patch(es)?|map|heatmap|overlay|"
    r"reconstruct\w*|detector|model|algorithm|you|f\d+|cases?|patient|appearances?|features?|pattern|output|"
    r"results?|tool)\b"
)

# words of the domain: a question using them may be about this scan even without "this"
DOMAIN = re.compile(
    rf"\b({PATHOLOGY}|brain|neuro\w*|radiolog\w*|imaging|clinic\w*|patient|medical|"
    r"sequence|detector|model|scan|image|slice|map|lesion|finding|region|signal|contrast|"
    r"mrs|spectroscopy|perfusion|dwi|swi|flair|territor\w*|watershed|mca|aca|pca|basilar|"
    r"circulation|vascular|"
    r"mri|ct|t1|t2|flair|anatom\w*|tissue|grey|white|matter|lobe|ventric\w*|cortex|"
    r"corpus|callosum|thalam\w*|hippocamp\w*|cerebell\w*|cerebr\w*|brain ?stem|pons|"
    r"midbrain|medulla|ganglia|caudate|putamen|capsule|skull|calvari\w*|sinus\w*|orbits?|"
    r"gyr\w*|sulc\w*|fissure|falx|tentori\w*|choroid|pineal|pituitar\w*|meninge\w*|"
    r"dura\w*|csf|fluid|vessels?|arter\w*|ven(ous|ule)\w*|hemispher\w*)"
)


# anchors to THIS scan (not "you"): a wh-question about a disease without them is general
SCAN_ANCHOR = re.compile(
    r"\b(this|these|here|it|its|scan|image|slice|picture|study|lesions?|findings?|"
    r"abnormalit\w*|anomal\w*|regions?|areas?|spots?|foc(us|i)|patch(es)?|map|heatmap|overlay|"
    r"reconstruct\w*|detector|model|algorithm|f\d+|cases?|the patient|this patient|brain)\b"
)


def not_about_a_scan(q: str) -> bool:
    """A request with nothing to do with a scan: no word ties it to this scan or to imaging
    ("How do I cook pasta?", "Can you help me with my taxes?"); short and elliptic questions
    ("what about the other one?") are never judged so."""
    anchored = ANCHOR.search(re.sub(r"\byou\b", " ", q))
    return not anchored and not DOMAIN.search(q) and len(q.split()) >= 4 and not ELLIPTIC.search(q)


# a follow-up that leans on the conversation ("what about the other one?")
ELLIPTIC = re.compile(
    r"^\s*(and|also|what about|how about|same for|then)\b|\b(one|ones|other|another|them|"
    r"they|both|either|each|same|too|as well)\b"
)

# ----------------------------------------------------------------------------- 2. next steps
NEXT = _rx(
    r"\bwhat (should|shall|must|needs? to|ought to) (i |we |you |one )?(be )?(do|done)\b|"
    r"\bwhat (to do|now)\b|\bwho (to|should (i|we)|do (i|we)) (refer|send|call|contact)\b|"
    r"\brefer (to|on)\b",
    r"\bnext\b(?! to)",
    r"\bwhat (now|then)\b|\b(do|should|shall|must) (i|we) refer\b|\bto whom\b",
    # "Would contrast-enhanced T1 or FLAIR help characterise this?", "should she see a specialist?"
    r"\b(would|could|will|might|does|do|can) (\w+[ -]){0,5}help (to |us |me )?(characteri[sz]e|"
    r"clarify|differentiate|distinguish|confirm|narrow|pin down|sort out)\b",
    _REFERRAL,
    r"\b(what|how) (should|do|would|shall|can|must) (i|we|you|one|the team) (do|suggest|"
    r"recommend|advise|propose|order|request|proceed|work|investigate|manage|handle|follow)\b",
    r"\b(what|which) would you (do|suggest|recommend|advise|order)\b",
    r"\b(you|we|i|one) (\w+ )?(recommend|suggest|advise|propose)\b|\brecommendations?\b|"
    r"\bsuggestions?\b|\badvice\b|\b(recommended|suggested) (next|action|plan|imaging|"
    r"follow|work|steps?|test)\b|^\W*(recommend|suggest|advise)",
    r"\b(the |a |your )?plan\b|\bgo from here\b|\bfrom here on\b|\burgen\w*\b|"
    r"\bemergenc\w*\b|\bhow soon\b|\bescalat\w*\b|\badmit\w*\b|\bdischarg\w*\b|"
    r"\bdiscuss\w* (it |this |that |the case )?(with|at)\b|\b(tumou?r|mdt|multidisciplinary) "
    r"(board|meeting)\b|\brefer\w* (\w+ )?on\b|\brefer (it|this|that)\b",
    r"\b(do|should|must) (i|we|you) (need to )?(do|order|arrange) (anything|something)\b|"
    r"\bwhat else (should|can|could|would|do) (i|we)\b|"
    # "Should I push for an LP and EEG then?"
    r"\b(should|shall|must|do|would) (i|we) (\w+ )?(push|press|ask|argue|chase|pursue) for\b",
    r"\b(is|are) (any |more |further |additional |extra )(\w+ ){0,3}(needed|necessary|"
    r"warranted|required|indicated|advisable)\b",
    r"\bneeds? (to be )?(seen|reviewed|checked|repeated|followed|investigated|imaged)\b",
    r"\b(should|shall|must|could|would|can) (this|it|that|the \w+|he|she|they) (\w+ )?be "
    r"(\w+ )?(repeated|rescanned|re-?imaged|followed|reviewed|biopsied|referred|discussed|"
    r"imaged|seen|scanned|investigated|monitored|checked|watched|operated|removed)\b",
    r"\bin (\d+|one|two|three|four|six|twelve|a few|several) (days?|weeks?|months?|years?)\b|"
    r"\bmonitor\w*\b|\bsurveillance\b|\bwatch and wait\b",
    r"\bwork(ed|ing)?[- ]?(it |this |that |him |her |them )?up\b|\bwork-?up\b",
    r"\b(further|additional|extra|dedicated|repeat|repeated) (\w+ )?(imaging|investigation\w*|"
    r"tests?|work|evaluation|assessment|sequences?|scans?|studies|views?|series|mri|ct)\b",
    r"\b(more|other|another|different) (imaging|investigation\w*|tests?|sequences?|views?|"
    r"work-?up|modalit\w*|mri|scan|ct)\b(?! (is|was))",
    r"\bcome back (for|in)\b|\b(which|what) (\w+ )?(sequences?|scans?|imaging|tests?|views?) "
    r"(to|should (i|we)|would you|do (i|we)) (add|order|get|request|do|perform|run)\b",
    r"\bfollow(ed|ing)?[- ]?up\b|\bfollowup\b|\brescan\w*\b|\bre-?image\b|\binterval (scan|imaging)\b",
    r"\b(should|shall|could|would|must) (i|we|you|one|they) (get|order|request|add|repeat|do|"
    r"perform|obtain|arrange|compare|refer|biopsy|image|scan|book|send|look at|"
    # "would you consider these appearances normal?" is an opinion on this scan
    r"consider(?! (it|this|these|that|those|the (scan|appearances?|image|slice|study|brain|"
    r"findings?|lesion))\b))\b",
    r"\b(order|request|arrange|obtain|perform) (an? |the )?(\w+ ){0,3}"
    r"(scan|mri|ct|dwi|sequence|imaging|study|biopsy|contrast|perfusion|spectroscopy|pet)\b",
    r"\bwould (an? |the )?(\w+ ){0,4}(help|be (useful|helpful|worth\w*|needed|indicated))\b",
    r"\b(need|want|get|add|order|request)\w* (a |an |some |the )?(contrast|gadolinium|flair|dwi|"
    r"swi|t2|perfusion|mra|spectroscopy|post-contrast)\b",
    r"\b(do|does|will|would) (i|we|you|they|he|she|the patient) need (a|an|to|any|further|more)\b|"
    r"\b(does|do|will|would) (this|it|the (scan|patient|finding|lesion)) need (a|an|any|further|"
    r"more|to)\b|"
    r"\b(call|phone|ring|page|bleep|contact|alert|inform|notify) (the )?(\w+ )?(reg|registrar|"
    r"consultant|neuro\w*|on-?call|team|surgeon|attending|resident|stroke)\b|"
    r"\bworth (doing|getting|ordering|adding|requesting|a try|considering|it)\b|"
    r"\b(mrs|spectroscopy|perfusion|dsc|dce|asl|angiograph\w*|pet)\b.{0,30}\b(worth|useful|"
    r"helpful|needed|indicated|help)\b",
    r"\b(referral|referred|biopsy|biopsied|neurosurg\w*(?! (team )?(asks?|wants?|requests?|would|needs?))|neurolog\w* (opinion|review|referral)|"
    r"mdt|multidisciplinary|second opinion)\b|\brefer (him|her|them|(the|this) patient|on)\b|"
    r"\brefer\b.{0,15}\bto (a |an |the )?(neuro\w*|specialist|oncolog\w*|surgeon|clinic|team)",
    r"\b(prior|previous|old|earlier) (imaging|scans?|studies|mri|ct|exams?)\b",
    r"\b(clarify|characteri[sz]e (it|this|that|the \w+) (further|better))\b",
    r"\b(ask|asking|get|getting|request|seek|obtain) (for )?(a |an )?(\w+ )?(opinion|review|"
    r"referral|consult\w*|second look)\b|\b(neuro\w*|specialist|expert|radiolog\w*) "
    r"(opinion|review|input|consult\w*)\b",
    r"\b(management|manage (this|the) (patient|finding|lesion))\b",
    r"\bcontrast (scan|study|mri|ct|imaging|sequence)\b|\bwith contrast\b|\bgive contrast\b",
)
# the acquisition in the past tense: "Was this done with contrast?" (modality, not a next step)
# the display convention ("Is the left of the image the patient's right?"), not a finding's side
CONVENTION = re.compile(
    r"^(?!.*\b(lesion|finding|f\d+|abnormal\w*|it is|is it)\b).*\b(left|right) (side )?(of|on|in) the "
    r"(image|screen|picture|display)\b.*\b(patient'?s?'?|anatomical) (left|right)\b|"
    r"^(?!.*\b(lesion|finding|f\d+|abnormal\w*)\b).*\b(patient'?s?'?|anatomical) (left|right)\b"
    r".*\b(left|right) (side )?of the (image|screen|picture|display)\b|"
    r"^(?!.*\b(lesion|finding|f\d+|abnormal\w*)\b).*\bwhich (side|way) (of|on) the (image|screen|"
    r"picture|display) (is|shows|corresponds to) (the )?(patient'?s?'?|anatomical) (left|right)\b|"
    # "which way is left on the display", "is left on the left of the screen?"
    r"^(?!.*\b(lesion|finding|f\d+|abnormal\w*)\b).*\b(which (way|side) is (the )?(patient'?s?'? )?"
    r"(left|right|l|r)|(is )?(the patient'?s? )?(left|right) (shown )?on the (left|right))\b.*\b("
    r"display|screen|image|picture|viewer|volume|scan|stack)\b|"
    # "Is image left the patient's left here?", "Which side is the child's left on this picture?",
    # "Where is the patient's left?", "Is this image upside down?"
    r"\bimage'?s? (left|right) (the |is the |=  ?)?(patient|pts?|child|baby|subject)'?s? (left|"
    r"right)\b|"
    r"\bwhich side is (the |his |her )?((patient|child|baby|subject)'?s? )?(left|right)\b|"
    r"\bwhere is (the )?(patient|child|baby|subject)'?s? (left|right)\b|"
    # "L is pt left in this file?", "is the orientation correct?"
    r"\b(is )?(image |screen )?(l|left) (is |= ?)(the )?(pt|patient)'?s? (l|left)\b|"
    r"\borienta\w* (is |looks? )?(correct|right|ok|okay|fine|wrong)\b|"
    r"\b(upside down|flipped|mirrored|back to front|left[- ]right (flip|swap)\w*)\b"
)
PAST_ACQUISITION = re.compile(
    r"\b(was|were|has|have) (this|it|the (scan|image|study|slice|mri|ct)|they)( been)? "
    r"(done|acquired|taken|performed|obtained|given|injected)?\s*"
    r"(with|after|before|without|using|on|at)\b|\b(was|were) (contrast|gadolinium) |"
    r"\b(contrast|gadolinium)( agent)? (was|were|has been|had been|been) (\w+ )?(given|used|"
    r"administered|injected)\b|\b(gave|given|injected|administered) (the |any |some )?(contrast|"
    r"gadolinium)\b|\b(with|without) or (with|without) (iv |intravenous )?(contrast|gadolinium)\b|"
    r"\b(with|without) (iv |intravenous )?(contrast|gadolinium)( \w+)? or (with|without)\b|"
    r"\b(had|received|got) (any |the )?(iv |intravenous )?(contrast|gadolinium)\b|"
    r"\bdid (\w+ ){1,2}(receive|get|have) (any |the )?(iv |intravenous )?(contrast|gadolinium)\b|"
    r"\b(native|non-?contrast|pre-?contrast|post-?contrast|post-?gad\w*|pre-?gad\w*)\b.{0,30}\bor\b"
    r".{0,30}\b(native|non-?contrast|pre-?contrast|post-?contrast|post-?gad\w*|pre-?gad\w*)\b|"
    r"^\W*(contrast|gadolinium|enhanced|post-?contrast)\W*$"
)

# ----------------------------------------------------------------------------- 3. modality
ACQUISITION = _rx(
    r"\b(modality|modalities|sequence|sequences|weighting|weighted|plane|planes|orientation|"
    r"protocol|acquisition|acquired|scanner|vendor|manufacturer|field strength|tesla|"
    r"echo time|repetition time|inversion time|flip angle|bandwidth|\bte\b|\btr\b|"
    r"slice thickness|thickness|pixel spacing|spacing|voxel\w*|resolution|matrix|"
    r"field of view|\bfov\b|bit depth|file format|dicom (tags?|header)|header|metadata|"
    r"skull[- ]?strip\w*|intensity[- ]normali[sz]\w*|bias[- ]field|preprocess\w*|pre-process\w*|"
    r"mni( space)?|template space|native space|"
    r"slice number|slice index|which slice|what slice|how many slices|"
    r"(mm|millimet\w*|cm) per (pixel|voxel)|pixel size|image size|image dimensions|"
    r"(radiological|neurological) (convention|display|orientation)|display convention|"
    r"convention|displayed|flipped|mirrored|kind of (scan|image|imaging)|type of "
    r"(scan|image|imaging)|what kind of (mri|ct|sequence)|imaging technique|technique)\b",
    r"\bwhich way (is|are|round|up)\b|\b(left|right) is (left|right)\b|"
    r"\bhow thick\b|\bslice gap\b|\b(dicom|nifti|nii|png|jpe?g|tiff?|file type|file format)\b|"
    r"\bwhat (scan|sequence|modality|plane|view|series|image type|weighting) is (this|it)\b|"
    r"\b(what|which) (kind|type|sort) of (\w+ )?(scan|image|imaging|study|sequence|acquisition|"
    r"exam|examination)\b|\b(is (this|it) )?(a )?(3d |three-dimensional )?(volume|stack|series) "
    r"or (a )?(single |2d )?(slice|image)\b|\b(single )?(slice|image) or (a )?(3d )?(volume|"
    r"stack|series)\b|"
    r"\b(contrast|gadolinium) (given|used|administered|injected|agent)\b|"
    r"\b(pre|post)[- ]?contrast\b|\bwas contrast\b|\b(pre|post)-? or (pre|post)-?(contrast|gad)",
)

# "Which slice is the lesion on?", "Which slices should I look at?": where in the volume a
# finding is (location), not which slice is shown ("Which slice number is this?": acquisition)
WHICH_SLICE = re.compile(
    r"\b(which|what) (axial )?(slices?|levels?|sections?|cuts?|images?)\b"
    r"(?! (number|index|thickness|gap|spacing|level is this|is this))"
)
_OF_A_FINDING = re.compile(
    r"\b(lesions?|findings?|abnormal\w*|anomal\w*|regions?|spots?|[fvw]\d+|shows?|showing|"
    r"affected|involved|"
    r"contains?|look(ing)? at|best seen|suspicious|visible|appears?|is it|are they|lights? up|"
    r"scroll to|go to|jump to)\b|"
    # "which slices for that one", "which slice for the second one"
    r"\b(for|of) (that |this |the (\w+ )?)(one|lesion|finding|region)\b"
)

# a bare "Which slices?" / "What level then?" (a follow-up about a finding in a volume), how
# many slices a finding covers ("How many slices does it span?"), and "Show me the slice with
# the lesion": where in the volume (location), not how the scan was acquired
WHICH_SLICE_BARE = re.compile(
    r"^\W*((and|so|ok(ay)?|then),? )?(which|what) (axial )?(slices?|levels?)"
    r"( then| exactly| again| please)?\W*$"
)
SLICES_OF_A_FINDING = re.compile(
    r"\bhow many (axial )?slices (does|do|is|are|did) (it|they|this|that|the (\w+ )?(lesion|"
    r"finding|abnormality|region|spot|area|hotspot)s?|[fvw]\d+) (\w+ )?(span|spread|cover|"
    r"extend|occupy|involve|cross|appear|visible|seen|show|on|in)\w*\b|"
    r"\b(show|take|bring|jump|go|scroll)( me)?( to)? (the |which )?(axial )?(slices?|levels?) "
    r"(with|showing|containing|that (shows?|contains?|has)|of|where)\b"
)


def asks_which_slice(question: str) -> bool:
    """Whether a (location) question asks on which slices of a volume a finding lies ("Which
    slice is the lesion on?", "How many slices does it span?", "Show me the slice with F1")."""
    q = question.lower()
    return bool(
        WHICH_SLICE.search(q) or SLICES_OF_A_FINDING.search(q) or WHICH_SLICE_BARE.search(q)
    )


# a place on one side named in a question ("Any bleed in the right frontal lobe?"): presence
# on that side (the answer checks the findings' sides)
SIDE_STRUCTURE = re.compile(
    r"\b(in|within|of) the (left|right|l|r|lt|rt) (\w+ ){0,2}(lobes?|hemispheres?|region|"
    r"territory|cortex|matter|ganglia|thalamus|cerebellum|cerebellar hemisphere)\b"
)


def side_structure(question: str) -> str | None:
    """ "left" / "right": the side of a structure a presence question names ("Is there anything
    in the right frontal lobe?", "... in the R hemisphere?"), else None."""
    m = SIDE_STRUCTURE.search(question.lower())
    if m is None:
        return None
    return {"l": "left", "lt": "left", "r": "right", "rt": "right"}.get(m.group(2), m.group(2))


# "on this sequence", "in the T2 sequence": the image a question is about, not the acquisition
ON_A_SEQUENCE = re.compile(r"\b(on|in|from|at) (this|the|that|these|those) (\w+ )?sequences?\b")

# ----------------------------------------------------------------------------- 4. the subject
CASES = _rx(
    r"\bcases\b",
    r"^\W*(please )?(show|see|give|find|any|fetch|pull up)( me)? (the |some )?(similar|comparable)\b|"
    r"\b(similar|comparable) (ones|examples)\b",
    r"\b(similar|comparable|matching|closest|nearest|retrieved|reference|other|most similar|"
    r"top|related|analogous) (\w+ )?(case|scan|image|patient|example|subject|study|"
    r"match|result|hit)s?\b",
    r"\b(library|database|data base|reference set|archive|retriev\w*|look-?alikes?|"
    r"neighbou?rs?)\b",
    # ("does this brain match normal anatomy?": whether it is normal)
    r"(?<!at a )(?<!at the )(?<!during a )\bmatch(es)?\b(?! (the|this) (lesion|finding))"
    r"(?! (the |a |an )?(\w+ )?(normal|healthy)\b)(?! what (you|we|i|one|a radiologist) (would |might )?"
    r"(expect|anticipate))",
    r"\b(similar|comparable|resembl\w*) (to )?(this|it|f\d+|ones?)\b",
    # "nothing resembling a tumour": whether a kind of lesion is there
    rf"\bresembl\w*\b(?! (an? |any )?(\w+ )?{PATHOLOGY})",
    r"\bother (patients|people|subjects|scans|images|examples)\b",
    r"\b(seen|encountered) (this|it|something like this|one like this|anything like this) "
    r"before\b",
    r"\bcompar\w* (it |this |f\d+ )?(with|to|against) (the )?(similar|other|reference|"
    r"retrieved|previous|library)",
)
PSEUDO = _rx(
    r"\bpseudo-healthy\b",
    r"\breconstruct\w*\b|\brestor\w*\b|\binpaint\w*\b|\bcounterfactual\b",
    r"\b(healthy|lesion-free|normal|synthetic|generated|predicted|expected|corrected|"
    r"healthy-looking|healthy looking) (version|counterpart|estimate|twin|copy|reference image)\b",
    r"\b(normal|healthy) (\w+ )?version\b",
    r"\bthe (healthy|generated|synthetic|synthesi[sz]ed|predicted) (image|scan|slice|brain|"
    r"reconstruction|picture|version|one)\b|\b(model's|generated|synthesi[sz]ed) (image|scan|slice|version)\b",
    r"\bwould (it|this|the (brain|scan|slice|image|patient)) (\w+ )?(look|appear) like\b|"
    r"\bexpected (normal )?appearance\b|\bwhat (it|this|the (brain|scan|slice|image|tissue|area|"
    r"region)) (should|would|ought to) (\w+ )?(look|appear)( like)?\b|\bhow (it|this|that|the \w+|"
    r"this \w+) (should|would|ought to) (\w+ )?(look|appear)\b",
    r"\b(look|looked|appear) like (if|when|without|had|healthy|normally|normal)\b|"
    r"\b(how|as) (it|this|the \w+) (would|should|might) (look|be|appear) (when|if) (it (was|were) "
    r")?(healthy|normal)\b",
    r"\bwithout (the|its|any|this) (lesion|abnormality|anomaly|finding|tumou?r|mass)\b",
    r"\b(comparison )?slider\b|\bbefore[- /]and[- /]after\b|\bside[- ]by[- ]side\b",
    r"\bdiffusion model\b|\b(model|detector|network|ai) (\w+ ){0,3}(remov|eras|replac|fill|"
    r"paint|inpaint|generat|synthesi[sz]|creat|produc)\w*\b(?!.{0,40}\b(findings?|candidates?|"
    r"detections?|lesions?|flags?|hits?|results?|regions?)\b)",
    r"\bthe original (and|vs|versus)\b",
    r"\b(healed|fixed|repaired|corrected|cleaned[- ]up|lesion[- ]free|normali[sz]ed) (?!per\b)(\w+ )?"
    r"(image|version|picture|scan|brain|slice)\b",
    r"\b(second|other|extra|another|2nd)\b.{0,30}\b(normal|healthy|clean)([- ]looking)? (\w+ )?"
    r"(image|picture|scan|panel|version|brain)\b|\b(second|other|extra|another|2nd),? "
    r"(\w+[ -]){0,2}(image|picture|scan|panel)\b.{0,30}\b(normal|healthy|clean)",
)
MAP = _rx(
    r"\bheatmap\w*\b|\banomaly (map|score map)\b|\bthe map\b|\bmaps?\b",
    r"\boverlay\w*\b|\bcolou?r\w*\b|\bcolou?r ?bar\b|\blegend\b",
    r"\b(red|yellow|orange|blue|green|purple|hot|warm) (area|region|spot|blob|patch|part|bit|"
    r"zone|areas|regions|spots|blobs|patches|parts|bits|zones|pixels)\b",
    r"\bred\b|\byellow\b",
    r"\b(lit|light|lights|lighting|glow\w*) up\b|\bglow\w*\b|\bhot ?spots?\b|\bhighlight\w*\b",
    r"\bwhy\b.*\b(mark|flag|detect|select|pick|circl|outlin|highlight)\w*",
    r"\bspeckl\w*\b|\bnois(e|y) on the\b|\b(difference|residual|error|anomaly score) "
    r"(image|map)\b|\bper[- ]pixel\b",
    r"\bpixel-?wise\b|\b(which|what) pixels\b|\bpixels? (to|get|are|is) colou?r\w*|\bcolou?r (the |which |what )?pixels\b|"
    r"\banomaly scores\b",
)

# a yes/no question about the scan at the place the map points to (not about the map itself)
_AT_THE_HIGHLIGHT = re.compile(
    r"\b(is|are) (it |that |this |they )?(just |only |simply |really |actually |truly )?(an? )?"
    r"(normal|healthy|"
    r"abnormal\w*|lesions?|real|genuine|patholog\w*|artefact|artifact|noise)\b|"
    r"^([^,?]{0,60},\s*)?(so |and |but |also )?(is|are|was|were|does|do|did|has|have|can|could|would|any|"
    r"anything|something|nothing|there is|there are)\b.*\b(actual|actually|real|really|genuine|genuinely|true|"
    r"truly|lesions?|abnormal\w*|patholog\w*|disease|normal|healthy|brain|tissue|anything|"
    r"something|nothing|(on|in) the (actual |underlying |original |real )?(image|scan|mri|"
    r"slice))\b"
)
_COMPARATIVE_SIGNAL = re.compile(
    r"\b(brighter|darker|hyperintense|hypointense|isointense|higher signal|lower signal)\b|"
    r"\b(is|are|look\w*|appear\w*|come\w* out) (\w+ ){0,3}(dark|bright|white|black|grey|gray)\b"
    r"(?! matter)"
)
# a finding named by how the map shows it ("the highlighted finding", "the red spot")
_HIGHLIGHTED_NOUN = re.compile(
    rf"\b(highlighted|marked|flagged|circled|outlined) ({LESION_NOUN})\b"
)
# asking what the map means or how it is made: a heatmap question whatever else it names
_MAP_MEANING = re.compile(
    r"\b(mean|means|meaning|represent\w*|stand for|signif\w*|indicat\w*|show\w*|scale|"
    r"per (pixel|voxel)|pixel-?wise|voxel-?wise|decid\w*|choos\w*|"
    r"units?|values?|comput\w*|calculat\w*|made|generated|work|threshold\w*|legend|colou?r "
    r"(bar|scale|map)|residual|difference between|derived|brightest|hottest|strongest|peaks?|"
    r"maxim\w*|outside the (brain|skull|head)|background|edges?)\b|"
    r"\bpick\w* up (the )?(ventricles?|skull|"
    r"scalp|bone|csf|fat|edges?|background|noise|artefacts?|artifacts?)\b"
)

# ----------------------------------------------------------------------------- 5. report
REPORT = _rx(
    r"(?<!model )(?<!detector )(?<!tool )(?<!it )(?<!algorithm )\breports?\b(?!ed)",
    r"\bwrite[- ]?up\b|\bwrite (it|this|that|them|these|the case) up\b",
    r"\bdraft\w*\b|\bdictat\w*\b",
    r"\bimpression\b|\bconclusion\b|\bfindings section\b|\bbullet(ed)? ?points?\b|\bbullets\b",
    r"(?<!model )(?<!detector )(?<!algorithm )(?<!network )(?<!system )\b(write|give|list|"
    r"summari[sz]e|generate|produce|prepare|compose|put together|create|provide|formulate|need|"
    r"want|make)\b(?:(?!\b(any|additional|other|more|further|extra|new)\b).){0,30}\b(findings|"
    r"summary|write-?up|"
    r"sentence|paragraph|text|description for)\b",
    r"\bsummar(y|ise|ize)\b|^(\W|please |just |so )*(give|tell|what is) (me |us )?(the )?bottom "
    r"line\W*$",
    r"\bsum (it |this |that |things |everything )?up\b|\bin (short|brief|a nutshell|simple "
    r"words|plain (words|english|language)),? what (the |this |it )?(scan|tool|detector|model|"
    r"image|slice)?\s*(shows|found|showed|finds)\b",
)

# an imperative to write: "Summarise for the MDT.", "Draft the findings."
REPORT_FIRST = re.compile(
    r"^(?!.*\breport (whether|if)\b)\W*(please |can you |could you |would you )?(summari[sz]e|draft|dictate|compose|"
    r"write up|write (a|the|an|me a|me the|it|this) (\w+ )?(report|findings|impression|"
    r"conclusion|summary|paragraph|line|sentence)|(put together|prepare|produce|generate|create|"
    r"give me|make) (a|an|the|me a) (\w+ )?(report|summary|impression|findings|write-?up))\b"
)
NOTHING_TO_REPORT = re.compile(r"\b(anything|something|nothing)\b.{0,15}\breport")

# ----------------------------------------------------------------------------- 6. confidence
CONFIDENCE = _rx(
    r"\bconfiden\w*\b|\bcertain\w*\b|\buncertain\w*\b|\bsure\b|\bsureness\b",
    # whether the detector is wrong: "How likely is it that the model is wrong here?"
    r"\b(detector|model|algorithm|system|ai|software|tool|it|you|this|that|the (result|finding|"
    r"call|flag|output|detection)) (is|are|was|were|could be|might be|may be|be|has been|got "
    r"(it|this|that)) (\w+ )?(wrong|mistaken|incorrect|in error|off)\b|"
    r"\bhow (often|likely|probable|frequently)\b.{0,40}\b(wrong|mistaken|incorrect|errors?|"
    r"mistakes?)\b",
    r"\breliab\w*\b|\baccura\w*\b|\bprecision\b|\btrust\w*\b|\bdepend(able|ability)\b",
    r"\bhow (likely|probable)\b.{0,40}\b(artefact|artifact|noise|real|false|spurious|genuine)\b",
    r"\bmiss(ed|es|ing)?\b|\boverlook\w*\b|\bundetected\b|\bhidden\b|\bhid(e|es|ing)\b|"
    r"\b(not|n't) (get |be |been |being )?(picked up|detected|flagged|caught|spotted)\b|\bescape[sd]?\b|"
    r"\bslipped through\b",
    r"\b(not|fail\w* to|n't) (flag|detect|find|catch|see|spot|pick up|notice)\w*\b.*\b(could|"
    r"might|may|be)\b|\b(could|might|may)\b.*\b(you|it|the detector|the model) (did not|"
    r"failed to|could not) (flag|detect|find|catch|see|spot|pick)",
    r"\bfalse (positive|negative|alarm)s?\b|\bfalse[- ]positives?\b|\bfalse[- ]negatives?\b|"
    r"\bspurious\b|\bbogus\b|\bfluke\b|\bhow much weight\b|\bweight (would|should|can) "
    r"(i|we|you) (put|give|place)\b",
    r"\b(real|true|genuine|actual) (lesion|finding|abnormality|positive|pathology|thing)\b|"
    rf"\b(is|are) {REFERENT} (\w+ )?(real|genuine|true|spurious|actually there)\b|\breal or\b",
    r"\b(probability|chance|likelihood|odds|risk) (that|of (a )?(false|miss|error|it being "
    r"real|being real|a real))",
    r"\bdefinite\b|\bsensitiv\w*\b|\bspecificit\w*\b|\berror rate\b|\bperformance\b|"
    r"\bvalidat\w*\b|\bhow (good|well) (is|does) (the|this|your) (model|detector|algorithm|ai|"
    r"system)\b",
    r"\b(could|can|might) (you|the (detector|model|algorithm|ai|system)|it) be (wrong|"
    r"mistaken)\b|\bbe wrong\b|\bmistake\w*\b",
    r"\b(artefact|artifact|noise) or (real|a real|true|genuine|lesion|pathology)\b|"
    r"\bor (an? )?(artefact|artifact|noise)\b|"
    rf"\b(is|are|could|might|may|can) {REFERENT} (\w+ )?(be )?(just |only |simply )?(an? )?"
    r"(artefact|artifact|noise|normal variant)\b",
    r"\b(how much|can|should) (i|we) (rely|believe)\b|\bbelieve (it|this|that|you)\b|"
    r"\brel(y|ied|ies) (on|upon)\b",
    r"\b(just|only|merely|simply|probably) (\w+ )?(noise|an? artefact|artifact|normal variation|"
    r"a normal variant|an? (imaging )?artefact)\b",
    r"\bany good\b|\bhow good\b|\bgood enough\b|\blimitations?\b|"
    r"(?<!arm )(?<!leg )(?<!limb )(?<!sided )(?<!facial )(?<!face )(?<!hand )(?<!muscle )"
    r"\bweakness\w*\b(?! (of|in) (the )?(left|right|arm|leg|limb|face|hand)\w*)|"
    r"\bcaveats?\b|\bpitfalls?\b|\bblind spots?\b|\bmargin of error\b|\berror\b",
    r"\b(how often|how frequently)\b.*\b(wrong|mistaken|err\w*|miss\w*|fail\w*)\b|"
    r"\bis (it|the detector|the model|the result|the ai|this) (ever |often |sometimes )?wrong\b",
    r"\bscore\b.*\b(mean|probability|calculat|comput|derive)|\b(mean|probability)\b.*\bscore\b",
)

# ----------------------------------------------------------------------------- 7. count
COUNT = _rx(
    r"\b(apart from|besides|beside|beyond|other than|except|aside from|in addition to) (f\d+|the (first|main) "
    r"(one|lesion|finding))\b.{0,60}\b(any|more|other|additional|further|extra|another|else)\b",
    r"\bhow many\b(?! (mm|millimet|centimet|cm|pixels?|px|voxels?|square|slices?|of the "
    r"(similar|retrieved|reference|nearest) cases))",
    r"\bnumber of (\w+ )?(lesions?|findings?|abnormalit\w*|anomal\w*|regions?|areas?|spots?|foci|"
    r"masses|tumou?rs|nodules?|plaques?|hyperintensit\w*|hits|detections)\b",
    r"\bcount\b|\bcounts\b|\btally\b",
    r"\bmultiple\b(?! sclerosis)|\bseveral\b|\bmore than one\b(?! ?(centimet|millimet|cm\b|mm\b))|"
    r"\bmultifocal\b|\bunifocal\b|"
    r"\bsolitary\b|\bsingle\b|\bisolated\b|\bnumerous\b|\bmany (lesions?|spots?|foci)\b",
    r"\b(just|only) (one|a single|1)\b|\b(one|1) or (more|several|multiple|many|two|2)\b",
    r"\b(other|more|additional|further|extra) (\w+ ){0,2}(places?|regions?|areas?|lesions?|findings?|"
    r"spots?|abnormalit\w*|anomal\w*)\b.{0,20}\b(besides|beside|apart from|other than|except|"
    r"aside from) f\d+\b",
    r"\b(two|three|four|five|2|3|4|5) (separate |distinct |different )?(\w+ )?(lesions|findings|"
    r"abnormalities|anomalies|regions|areas|spots|foci|masses|nodules|plaques)\b",
    r"\b(are there|is there|any|anything|see|find|found|detect\w*|flag\w*)\b.{0,25}"
    r"\b(other|another|further|additional|more|extra)\b (\w+ )?(lesions?|findings?|"
    r"abnormalit\w*|anomal\w*|regions?|areas?|spots?|foci|masses|hits)\b(?! like)",
    r"\b(other|more|additional|further|extra) (lesions?|findings?|abnormalit\w*|anomal\w*|"
    r"regions?|areas?|spots?|foci|places?)\b.{0,20}\b(besides|beside|apart|than|elsewhere|as well|"
    r"too)\b",
    r"\belsewhere\b|\banywhere else\b",
    r"\b(besides|apart from|other than|except|in addition to) (f\d+|it|this|that|the)\b",
    r"\b(just|only) (f\d+|that one|this one|the one)\b|\bare there more\b|"
    r"\bor (are there )?more\b(?!\s+\w+al\b)(?! (white|black|bright\w*|dark\w*|gr[ae]y|hyper\w*|"
    r"hypo\w*|intense|signal|visible|obvious|likely))|\bany more\b",
    r"\b(more|other|anything else|others) than (f\d+|it|this one|that one|the one)\b",
    r"\bhow much (\w+ )?(lesions|findings|abnormalities|spots|areas|regions|foci|nodules|masses|"
    r"tumou?rs|plaques)\b",
    r"\bthe only ([\w-]+ )?(one|lesion|finding|abnormality|region|area|spot|thing|detection|"
    r"candidate|hit|component|cluster|blob)\b|\b(secondary|additional|satellite) (\w+ )?(ones|lesions|"
    r"findings|components|foci|regions)\b|\bone (\w+ )?or (are there |is there )?(a few|several|"
    r"many|more|multiple)\b|"
    r"\bor (is|are) there (any )?more\b|\bonly (lesion|finding|"
    r"abnormality|region)\b|\bany others?\b(?! (kinds?|types?|sorts?|forms?) of)|\bothers\b|"
    r"\bone (\w+ )?or (a |an )?(cluster|group|bunch|few|several|many|multiple|more)\b|"
    r"\bclusters?\b|(?<!or )\b(anything|something) else\b|"
    r"\b(a|any) (second|third|2nd|3rd) (\w+ )?(lesion|finding|abnormality|region|area|spot|"
    r"one)\b|\b(lots of|a lot of|a few|many|numerous|plenty of|a number of) (\w+ )?(lesions|"
    r"findings|abnormalities|regions|areas|spots|foci)\b|\b(lesion|disease) (load|burden)\b",
)

# ----------------------------------------------------------------------------- 8. side
_NOT_SIDE_RIGHT = re.compile(
    r"\b(am i|was i|i am|you are|that is|is that|are you|all|you were|i was) right\b|"
    r"\bright (now|away|then|so)\b|,\s*right\s*\?*$|\bright,? that\b|"
    r"\b(seem|look|feel|sound|appear|be)s? (\w+ )?right\b|\bright to (you|me)\b|"
    r"\b(everything|something|anything|nothing|all) (is |looks |seems )?(all )?right\b|"
    r"\bnot (quite )?right\b(?! (side|hemisphere|half|of))|\bright (thing|way|answer|call)\b|"
    # "the right size for a 15 month old", "at the right level for the detector"
    r"\b(the|a) right (size|level|levels|place|position|plane|sequence|slice|file|format|"
    r"scan|one|kind|type|protocol|time|angle|orientation|thickness|resolution|location|site|"
    r"diagnosis|description|label|name|word|term|category)\b|"
    r"\b(reading|read|understand\w*|got|get|see|seeing|interpreting) (that|this|it|things) right\b|"
    # a tag question ("F1 is the strongest one, right? Is it ...", spoken "... right question
    # mark"); someone being right ("Is she right, scan-wise?")
    r",\s*right\s*(\?|question mark|full stop|\.)|"
    r"\b((?<!is )it|normal|fine|ok|okay|clear|clean|wrong|there|mets|metastases) right\s*"
    r"(\?|\.|question mark|full stop|$)|"
    r"\b(is|was|are|were) (she|he|they|we|the (registrar|resident|report|reader|radiologist|"
    r"referrer|ai|model|tool|colleague))( \w+)? right\b|\b(she|he|they|we) (is|are|was|were) right\b"
)
_NOT_SIDE_LEFT = re.compile(
    r"\bleft (in|over|behind|untreated|out|alone)\b|\b(anything|nothing|something|what is) left\b|"
    # "She left a note", "the registrar left it unreported": the verb
    r"\b(i|you|he|she|we|they|who|colleague|registrar|resident|someone) (just )?left\b|"
    r"\bleft (a|me|us|him|her|them|it|my|his|their|early|work|hospital|home)\b"
)
SIDE = _rx(
    r"\bhemispher\w*\b|\blateral(ity|ised|ized|isation|ization)\b|\blateralis\w*\b",
    r"\b(ipsi|contra)lateral\b|\b(left|right)[- ]sided\b|\bbilateral\b|\bunilateral\b",
    r"\b(which|what|wich) side\b|\bside of the (brain|head|midline|image|scan|picture|screen)\b|"
    r"\bthe side of (f\d+|it|this|that|the \w+)\b",
    r"\b(left|right)\b",
    # "In which half of the brain is it?" (not the front or back half)
    r"\b(which|what|wich) half( of the (brain|head|image|scan|picture|screen))?\b"
    r"(?!.{0,30}\b(front|back|upper|lower|top|bottom|anterior|posterior|superior|inferior)\b)",
)

# ----------------------------------------------------------------------------- 9. location
# asking where ("where", "which part", "pinpoint"), as opposed to a place that qualifies what
# else is asked ("Any lesion in the front?")
_WHERE_CUES = (
    r"\bwhere\w*\b",
    r"\blocat\w*\b|\blocalis\w*\b|\bposition\w*\b|\bcoordinates?\b|\bpinpoint\b",
    r"\bpoint (me )?(to|at|out)\b|\bshow me where\b|\bsituated\b|\bsits?\b|\blies\b",
    r"\b(which|what|wich) ((anatomical|anatomic|brain|cerebral|vascular|arterial) )?(part|region|"
    r"area|lobe|quadrant|portion|territory|section|zone|structure|compartment|level)s?\b",
    r"\b(in|on|at) (which|what) (part|region|area|lobe|quadrant|portion|side|section|zone)\b",
)
LOCATION = _rx(
    *_WHERE_CUES,
    r"\banterior\w*\b|\bposterior\w*\b|\bfront(al)?\b|(?<!come )(?<!came )\bback\b(?! (pain|up))|"
    r"\b(upper|lower|top|bottom|inner|outer)\b(?= (or|part|half|portion|region|side|quadrant|"
    r"third|left|right|end))|\b(at|in|on) the (top|bottom)\b",
    r"\bparietal\b|\btemporal\b|\boccipital\b|\binsula\w*\b|\blobes?\b|\bquadrants?\b",
    r"\bcentral\b|\bperipher\w*\b|\bdeep\b|\bsuperficial\b|\bcortex\b|\bcortical\b|"
    r"\bsubcortical\b|\bjuxtacortical\b|\bperiventricular\b|\bventricles?\b|\bmidline\b",
    r"\b(near|close to|next to|adjacent to|involv\w*|abut\w*) (the )?\w+",
)
LOCATION_ASK = _rx(*_WHERE_CUES, r"\b\w+ or \w+\b")  # "anterior or posterior?" asks where
WHICH_PART = re.compile(
    r"\b(which|what) ((anatomical|anatomic|brain|cerebral|vascular|arterial) )?(part|region|area|"
    r"lobe|quadrant|portion|section|zone|territory)\b"
)
# location words that name anatomy: inside "is there ...?" they qualify what exists (presence)
ANATOMY = re.compile(
    r"\b(centrum semiovale|corona radiata|internal capsule|external capsule|corpus callosum|"
    r"posterior fossa|septum pellucidum|globus pallidus|white matter|gr[ae]y matter|"
    r"basal ganglia|brain ?stem|parietal|temporal|occipital|frontal|insula\w*|lobes?|cortex|"
    r"cortical|subcortical|juxtacortical|periventricular|deep|superficial|"
    r"thalam\w*|cerebell\w*|splenium|genu|pons|pontine|midbrain|medulla|caudate|putamen|"
    r"lentiform|hippocamp\w*|amygdala|fornix|cingulate|gyr(us|i)|sulc(us|i)|"
    r"(supra|infra)tentorial|ventricles?|deep white matter)\b"
)

# ----------------------------------------------------------------------------- 10. size
SIZE = _rx(
    r"\bhow (big|large|small|tiny|wide|long|tall|broad|extensive|much (area|space|tissue|of))\b",
    r"\bsizes?\b|\bsized\b|\bsizeable\b|\bsizable\b|\bdimension\w*\b|\bmeasur\w*\b|"
    r"\bdiameter\b|\bextent\b|\bvolume\b|\bwidth\b|\blength\b",
    r"\bmm\b|\bmm2\b|\bmm²|\bmillimet\w*\b|\bcentimet\w*\b|\bcm\b|\bpixels?\b|\bpx\b|"
    r"\bvoxels?\b|\bsquare\b",
    r"\b(bigger|larger|smaller|wider|longer|greater) than\b|\b(more|less) than (a |one |two |\d+ ?)"
    r"(centimet\w*|millimet\w*|cm|mm)\b",
    r"\b(small|tiny|little|large|big|huge|sizeable|massive|medium)\b.{0,20}\bor\b.{0,20}"
    r"\b(small|tiny|little|large|big|huge|sizeable|massive|medium)\b",
    rf"\b(is|are) {REFERENT} (a |an )?(small|tiny|large|big|huge|medium[- ]sized|medium|"
    r"sizeable|little)\b",
    r"\b(cover|covers|occupy|occupies|span|spans)\b|\bwhat is the area\b|"
    r"\barea (in (mm|cm|px|pixels?|voxels?|square)|of (the|this|that|its) (lesion|finding|"
    r"abnormality|region|spot|focus|mass)|of f\d+)\b|'s area\b|\b(its|their) area\b",
)

# ----------------------------------------------------------------------------- 11. intensity
INTENSITY = _rx(
    r"\bhyper-?intens\w*\b|\bhypo-?intens\w*\b|\biso-?intens\w*\b|\bintensit\w*\b",
    r"\bhyper\b|\bhypo\b|\bhyper-? or hypo\b",
    r"\bsignal\b|\bbright\w*\b|\bdark\w*\b|\bdens(e|ity)\b|\bhyperdens\w*\b|\bhypodens\w*\b",
    r"\b(white|black|grey|gray) (or|on|than)\b(?! (white|gr[ae]y) matter)|\b(appear|look)s? (white|black|grey|gray)\b",
    r"\b(lighter|paler|shade|whiter|blacker|greyer|grayer)\b",
    r"\b(heterogene\w*|homogene\w*|inhomogene\w*)\b",
)
# a definite finding the question is about ("is IT bright", "is THE LESION dark", "F1 signal?")
DEFINITE = re.compile(
    rf"\b(it|its|they|them|their|f\d+|w\d+|(the|this|that|these|those) (\w+ )?{LESION_NOUN})\b|"
    r"\b(this|that)\b(?! (scan|image|slice|picture|study|brain|mri|ct|one|patient|file))"
)
# asking for the intensity itself ("What signal ...?", "How bright ...?")
INTENSITY_ASK = re.compile(
    r"\b(what|which) (is |are )?(the |its )?(signal|intensity|brightness|density)|"
    r"\bhow (bright|dark|intense|dense)\b|\bsignal intensity\b|\b(describe|characteri[sz]e) "
    r"(the |its )?(signal|intensity|brightness)|^\W*(signal|intensity|brightness)\b|"
    r"\b(hyper|hypo|bright|dark)\w* or (hyper|hypo|bright|dark|iso)\w*|"
    r"\bcome\w* out (white|black|grey|gray|bright|dark)\b|"
    r"^\W*(hyper|hypo|iso|bright|dark|high signal|low signal)\w*\s*((on|in) [\w -]+)?\W*$"
)
EXISTENTIAL = re.compile(
    r"^(so |and |but |also |ok,? |okay,? )?((is|are|was|were) there|there (is|are)|any|anything|"
    r"something|do (you|we|i) see|can (you|we|i) see|did (you|it|the \w+) (see|find|detect|"
    r"pick up|spot)|see any|evidence (of|for)|signs? of)\b|\b(is|are) there\b|"
    r"\b(could|might|may|would|can|will|should|must) there (be|have been)\b|^(so )?no\b|"
    r"\b(if|whether|that) there (is|are|was|were|has been|have been)\b|"
    r"^(any |some )?(?!(is|are|was|were|do|does|did|can|could|has|have|will|would|the|this|that|"
    r"these|those|its|it)\b)(\w+ )?"
    r"(lesions?|foci|spots?|areas?|changes?|abnormalit\w*|findings?)\b"
    r"(?! (is|are|was|were|look|looks|seem|seems)\b)|"
    r"\b(free|clear|clean) (of|from)\b|\bevidence (of|for)\b|\bsigns? of\b|\bany\b|"
    r"(?<!or )\b(anything|something|anywhere|somewhere)\b|"
    r"\b(present|seen|visible|noted|identified|evident)\s*[?.!]*$|"
    r"\b(is|are) (an? |any )?([\w-]+ ){0,3}(lesions?|abnormalit\w*|tumou?rs?|bleed\w*|"
    r"infarcts?|haemorrhag\w*|masse?s?|plaques?) (present|seen|visible|evident|identified|"
    r"detected)\b|"
    rf"\b(has|have|having) (an? |any |some )?(\w+ ){{0,3}}{PATHOLOGY}"
)

# signs the detector does not assess, asked as "is there ...": presence (the responder says it
# cannot tell)
SIGN = _rx(
    r"\bmidline shift\b|\bmass effect\b|\bhydroceph\w*\b|\bherniat\w*\b|\batroph\w*\b|"
    r"\b(a)?symmetr\w*\b|\bsulcal effacement\b",
    r"\b(ventricles?|sulci|cisterns?|ventricular system) (\w+ )?(enlarged|dilated|effaced|"
    r"compressed|normal|small|big|large|prominent)\b",
    r"\b(enlarged|dilated|effaced|compressed|prominent) (\w+ )?(ventricles?|sulci|cisterns?)\b",
    # the ventricles' size or shape, however asked ("ventricles look ok?", "ventricular size
    # within normal limits?")
    r"\b(volume loss|loss of volume|(brain|parenchymal|cerebral|brain parenchymal) volume|"
    r"sulc\w* (\w+ )?(widen\w*|prominen\w*|enlarg\w*|effaced|normal)|"
    r"(widen\w*|prominen\w*|enlarged|effaced) (\w+ )?sulc\w*|gr[ae]y[- ]white (matter )?"
    r"(differentiation|junction|interface|distinction))\b",
    r"\bventriculomegaly\b|\bventric\w*\b.{0,40}\b(size|sized|calibre|caliber|enlarg\w*|"
    rf"dilat\w*|prominen\w*|big|large|small|slit\w*|effaced|compressed|{NORMAL_WORD}|"
    r"within normal limits|look\w*|seem\w*|appear\w*)\b",
)

# ----------------------------------------------------------------------------- 12. cause
CAUSE = _rx(
    rf"\bwhat (could|might|may|would|can|should) {REFERENT} (be|represent|mean|indicate|"
    r"signify|correspond to|correlate with)\b",
    rf"\bwhat (is|are) {REFERENT}\s*[?.!]*$|\bwhat (is|are) {REFERENT} (most )?likely( to be)?\b",
    r"\bwhat do you (think|reckon|make of)\b|\bwhat (is|are) your (thoughts|opinion|"
    r"best guess|guess)\b",
    r"\bdifferential\w*\b|\bdiagnos\w*\b|\bcause[sd]?\b(?! (for|to) (concern|worry|alarm))|"
    r"\bcausing\b|\ba?etiolog\w*\b|"
    r"\bunderlying\b",
    r"\brepresent\w*\b|\bbest guess\b|\bguess\b|\bmost likely\b|\blikely (to be|is|diagnosis|"
    # ("tell the candidate ...": an exam candidate, not a candidate diagnosis)
    r"cause)\b|\bpossibilit\w*\b|(?<!the )(?<!our )(?<!my )(?<!this )(?<!that )\bcandidates?\b",
    r"\b(what|which) (kinds?|types?|sorts?) of (disease|pathology|lesion|condition|process|"
    r"thing|abnormality|tumou?r|problem|entity|illness)\b",
    r"\blooks? like (this|that|it|f\d+)\b|\bmimic\w*\b|\bconsistent with\b(?! (a |an |the )?(\w+ )?(normal|healthy|age))|\bsuggestive of\b|"
    r"\bin keeping with\b|\bcompatible with\b|\btypical of\b|\bcharacteristic of\b",
    r"\bmalignan\w*\b|\bbenign\b|\bcancerous\b|\baggressive\b|\bneoplastic\b|"
    r"\binflammatory\b|\binfectious\b|\bvascular\b|\bischaemic\b",
    rf"\b(could|might|may|can) {REFERENT} (be|represent)\b",
    r"\bwhat (does|do) (it|this|that|f\d+|the (lesion|finding|abnormality|region)) (mean|"
    r"indicate|suggest|signify)\b",
    r"\b(explain|account for|interpret)\b",
    r"\bwhat (is|are) (the )?(nature|origin|significance)\b|\bsignifican\w*\b",
    rf"^(so |and |but )?(is|are|could|might|may|would|can) {REFERENT} (\w+ )?(be )?"
    r"(metastatic|demyelinating|haemorrhagic|cystic|necrotic|post-?operative|post-?surgical|"
    r"congenital|degenerative|traumatic|infective|infected|neoplastic|ischaemic|embolic|"
    r"calcified|old|new|acute|chronic|subacute|treatable|dangerous|serious|worrying|"
    r"concerning|sinister)\b",
)
# what a finding could be, whatever else the question names ("What could the bright spot on the
# left be?", "Differential for the left-sided lesion?")
CAUSE_STRONG = _rx(
    # "What could a bright area like this be?": what a kind of finding can be
    r"\bwhat (could|might|may|would|can) (a|an|such an?|the|this|that|these|those) (\w+ ){1,5}"
    r"(like (this|that|it|these|f\d+) )?(be( (in|for|at|with) (\w+ ){0,4}\w+)?\s*[?.!]*$|represent|"
    r"signify)",  # "What can a bright spot on T1 be in a child?"
    rf"\bwhat (could|might|may|would|can) {REFERENT}( \w+){{0,6}} (be|represent|signify)\b",
    r"\bdifferential\w*\b|\bdiagnos\w*\b|\ba?etiolog\w*\b",
    r"\bwhat do you (think|reckon) (it|this|that|f\d+|the \w+) (is|are|could|might)\b",
    r"\bwhat (would|could|might|may|can)? ?(cause|explain|produce|give rise to)\b",
    r"\b(cause|causes|explanation|reason|reasons) (of|for) (it|this|that|the|f\d+|such|a)\b"
    r"(?! (concern|worry|alarm))",
    rf"\bwhy (is|are|does|do|would|might|could) {REFERENT}\b(?!.*\b(flag|highlight|mark|detect|"
    r"select|red|colou?r|map|overlay|missed|pick))",
    r"\bwhat (does|do|might|could|would|may) (\w+ ){1,3}(suggest|indicate|signify|imply|"
    r"point to)\b",
    r"\bwhat\b.{0,25}\bcaus(e|es|ing|ed)\b(?! (for|to) (concern|worry|alarm))",
    rf"\b(does|do|could|might|would|can|is|are) {REFERENT} (\w+ )?(look|looks|appear|appears|"
    rf"seem|seems|look like|resemble) (like |to be |consistent with |typical of )?(a |an )?"
    rf"{DIAGNOSIS}",
)
# "What's the chance that it's malignant?": what it is, not how sure the detector is
CHANCE_OF_DIAGNOSIS = re.compile(
    rf"\b(probability|chance|likelihood|odds|risk) (that )?{REFERENT} (is|being|be|represents?) "
    rf"(a |an )?({DIAGNOSIS}|malignant|benign|cancer\w*|metastatic|neoplastic)"
)
# "is <referent> (a|an) <noun>": a question about what the finding IS
# "What is this lesion?", "F1 maybe is cancer?": what the finding is
_WHAT_IS_IT = re.compile(
    r"\bwhat are the (possibilities|differentials?|likely diagnoses)\b|"
    rf"\bwhat (is|are) {REFERENT} (most )?likely( to be)?\b|"
    rf"^{REFERENT} \?\s*(an? )?{DIAGNOSIS}\b|"
    # "Is this lesion something bad, like a cancer?", "malignant or something benign?"
    rf"^(so |and |but )?(is|are|could|might|may|would) {REFERENT} (\w+ )?(be )?something (bad|"
    r"serious|sinister|worrying|nasty|dangerous|malignant|benign)\b|"
    r"\b(benign|malignant)\b.{0,40}\bor\b.{0,30}\b(benign|malignant)\b|"
    r"\b(benign|malignant|cancer|cancerous) or not\b|"
    # "dark spot R hemisphere - what is it": a description, then what it is
    r"\w[,;:.]?\s+[-,;:]?\s*(so |and |but )?what('s| is) (it|this|that)( then| exactly| likely)?"
    r"\s*[?.!]*\s*$|"
    r"^what (is|are) (this|that|these|those|the) (\w+ )?(lesion|finding|abnormality|thing|mass|"
    r"spot|area|region)s?\s*([,?.]|$)|"
    rf"^{REFERENT} (maybe |possibly |perhaps |probably )?((can|could|might|may) )?(is|are|be) (an? )?(\w+ )?({DIAGNOSIS}|"
    r"malignant|benign|cancer\w*|neoplastic)\b"
)
_COPULA = re.compile(
    rf"^(so |and |but )?(is|are|could|might|may|would|can) {REFERENT} (\w+ )?"
    r"(be |likely |possibly |probably |definitely |just |simply |maybe |perhaps )*"
    r"(a |an |some |from |due to |related to |part of |caused by |consistent with )"
    r"(?P<what>[\w -]+)"
)
_NOT_WHAT = re.compile(
    rf"^(\s*({NORMAL_WORD}|abnormal\w*|anomal\w*|there|present|visible|seen|real|true|"
    r"lesion|finding|region|the same|still|there|detected|found|flagged|in|on|at|near|"
    r"of|to|inside|within|left|right|have|has|had|show\w*|contain\w*|look\w*|seem\w*|outliers?|"
    r"appear\w*|need\w*|get|single|small|large|big|tiny|medium|few|lot)\b)|"
    r"^\s*(an? )?(positive|negative)\b|"
    r"^\s*(negative|positive|normal|abnormal|healthy|pathological|true|false) (sample|case|"
    r"control|example|study|scan|subject|result|image|slice|brain|finding)\b"
)

# ----------------------------------------------------------------------------- 13. presence
PRESENCE = _rx(
    rf"\b{PATHOLOGY}",
    rf"\b{NORMAL_WORD}\b",
    r"\b(anything|something|nothing)\b",
    r"\b(detect\w*|flag\w*|find|found|finds|pick\w* (up|anything|something)|picked|spot\w*|"
    r"catch|caught|notice\w*|see|seen|visible|show\w*|hits?)\b",
    r"\brule[sd]? out\b|\bnegative for\b|\bpositive for\b|\bsign (it|this|that) off\b|"
    r"\bpresent\b|\babsent\b|\ball good\b|\bwithin normal limits\b|\bcome back\b|\bcame back\b",
    r"\b(is|does) (this|the|it) (scan|image|slice|brain|picture)? ?(look|seem|appear)\b",
    r"\bas (it|they|one) should\b|\bas expected\b|\balright\b|\bnot right\b|\bconcern\w*\b|"
    r"\breassur\w*\b|"
    r"\bworr(y|ied|ying|isome)\b|\balarm\w*\b|\brelax\w*\b|\b(good|bad) news\b|"
    r"\b(everything|all) (is |looks |seems )?(in order|right|good)\b",
    r"\b(is|was|are|were|come back|came back) (the |this |it )?(\w+ )?(negative|positive)\b",
    r"\bspared\b|\bpreserved\b|\buninvolved\b",
    r"\b(in|out[- ]of)[- ]distribution\b|\bood\b|\banomalous\b|\boutliers?\b",
    r"\b(injur\w*|damag\w*|bruis\w*|hurt|fractur\w*)\b|\ban? (positive|negative)\b",
    r"\b(age|sex)[- ]appropriate\b|\bappropriate for (\w+ ){0,3}age\b",
    r"\b(above|over|below|under|beneath|exceed\w*|cross\w*|past) (the |its |their )?(\w+ )?"
    r"(threshold|cut-?off)s?\b",
)

# "What is a glioma?", "What causes MS?", "How is glioblastoma treated?": about a disease
_WH_START = re.compile(r"^(so |and |but )?(what|how|why|who|when|which)\b")
_DIAGNOSIS_RE = re.compile(rf"\b{DIAGNOSIS}\b")


def general_question(q: str) -> bool:
    """A wh-question about a disease in general, not about this scan: no word ties it to this
    scan, and the disease is not "the tumour" / "this bleed" (which would be this scan's)."""
    if not _WH_START.search(q) or SCAN_ANCHOR.search(q) or EXISTENTIAL.search(q):
        return False
    if re.match(r"\W*(and )?(what|how) about\b", q):
        return False  # "What about normal pressure hydrocephalus? His gait ...": this patient's
    if _WHAT_IS_IT.search(q):  # "what are the possibilities, tumour or abscess?": this scan's
        return False
    for m in _DIAGNOSIS_RE.finditer(q):
        before = q[: m.start()].split()[-2:]
        if not {"the", "this", "that", "its", "your", "such"} & set(before):
            return True
    return False


# ----------------------------------------------------------------------------- polarity
# what the detector produced, read as a verdict: "Is the heatmap blank?", "Is the anomaly map
# quiet?", "Was the reconstruction error low everywhere?" (nothing found), "Did it light up
# anywhere?", "Does the residual exceed the noise floor?" (something found)
_TRIVIAL = r"(meaningless|insignificant|irrelevant|negligible|harmless|trivial)"
_SEND_HOME = (
    r"send (him|her|them|the patient|this patient|the pt|pt|patient) home|"
    # "can he go home if he's neuro intact?", "ok for her to be sent home?"
    r"(he|she|they|him|her|them|patient|pt) (\w+ ){0,2}(go|be sent|be discharged|leave) home"
)
_OUTPUT_NOUN = (
    r"\b(map|heatmap|heat map|overlay|mask|residual|error|difference|output|detector|model|"
    r"anomaly score|score)s?\b"
)
_OUTPUT_QUIET = (
    rf"{_OUTPUT_NOUN}( \w+){{0,4}}? (blank|empty|quiet|silent|cold|flat|featureless|"
    r"(uniformly |all |everywhere |totally |completely )?(low|zero|zeros|dark|black|blue)|"
    r"all zeros?)\b(?!( \w+){0,2} (in|on|at|over|around|near|inside|within) (f\d+|the (lesion|"
    r"finding|region|spot)))"
)
# "What does a blank heatmap mean?", "Is everything above threshold drawn in red?": how the
# output is made or shown, not a verdict
_OUTPUT_MEANING = re.compile(
    r"\b(mean|means|meaning|represent\w*|stand for|units?|comput\w*|calculat\w*|made|"
    r"generated|derived|legend|scale|shown|displayed|drawn|plotted|colou?red)\b"
)
_OUTPUT_ACTIVE = (
    r"\b(light|lights|lit|lighting) up\b|\b(exceed\w*|above|over|beyond) (the )?(\w+ )?(noise|"
    r"noise floor|threshold|cut-?off|alarm( level)?)\b|\bsurviv\w* (the )?threshold\w*\b"
)
# "Is the second finding an artefact?" (after text.normalise: "an imaging artefact" too)
_FINDING_IS_ARTEFACT = (
    r"^(is|are|was|were) (the |this |that )?(\w+ ){0,2}(finding|lesion|region|spot|area|blob|"
    r"hot ?spot|highlight|detection|hit|one) (just |only |simply |merely |purely )?(an? )?"
    r"(artefact|noise)\b|"
    # "Is F1 a flow or motion artefact?", "Is F1 probably a motion artefact?": an artefact of
    # some kind, asked of the finding
    r"^(is|are) (f\d+|it|this|that|(the|this|that) (finding|lesion|region|spot|area|blob)) "
    r"(probably |just |only |simply |merely )?(an? )?([\w-]+ (or |and |/ ?)?){1,3}"
    r"(artefact|artifact)s?\s*[?.!]*$"
)
_YES_NO_START = re.compile(
    r"^(so |and |but |also |ok,? |okay,? |sorry,? |hi,? |hey,? |quick question,? |"
    r"just to (check|confirm),? |please,? |doctor,? )*"
    r"(is|are|was|were|am|does|do|did|can|could|has|have|had|will|would|should|shall|may|"
    r"might|must|any|anything|something|nothing|no|none|tumou?r|lesion|there)\b"
)
_OPEN_START = re.compile(
    r"^(so |and |but |also |ok,? |okay,? |sorry,? )*(what|which|where|how|why|when|who|"
    r"describe|list|tell me (what|about|where|which|how)|show|explain|summari[sz]e|give|"
    r"name|point|localis|count|measure)\b"
)
_NORMAL_ASK = _rx(
    rf"\b{NORMAL_WORD}\b",
    r"\bnothing\b|\bno (abnormal\w*|lesions?|findings?|patholog\w*|tumou?rs?|masse?s?|"
    r"problems?|issues?|disease|concerns?|signs?|evidence|abnormality detected)\b",
    rf"\b(is|are) there no\b|\bthere (is|are) no\b|\bno (\w+[ -]){{0,3}}{PATHOLOGY}",
    r"\bspared\b|\bpreserved\b",
    # "document 'no structural cause seen'": a report's negative phrase
    r"\bno (structural|intracranial|acute|obvious|focal|significant|sinister|underlying) ([\w-]+ )?"
    r"(cause|explanation|abnormalit\w*|lesions?|findings?|patholog\w*|changes?)\b",
    r"\bfree (of|from)\b|\bwithout (any )?(\w+ )?(abnormal|lesion|finding|sign|patholog|tumou?r|"
    r"problem|mass|surgical|post-?operative)",
    r"\brule[sd]? out\b|\bruling out\b|\bexclude[sd]?\b|\bnegative for\b|\bsign (it|this|that) "
    r"off\b|\ball good\b|\bwithin normal limits\b|\bnothing to worry\b|\bclear of\b|"
    r"\bas (it|they|one) should\b|\bas expected\b|\balright\b|"
    r"\b(everything|all) (is |looks |looking |seems )?(in order|right|good|sorted)\b|\babsen\w*\b|"
    # "Does this scan pass?", "Did the detector pass it?", "passed the AI screen?"
    r"^(so )?(does|did|do|would|will|has|can) (this|it|the|this one)( \w+)? pass(ed)?\b"
    r"(?! (the |its |a )?([\w']+ )?(threshold|cut-?off|limit|bar|level)\b)|"
    r"\bpass(es|ed)? (the |its )?(detector|model|ai|screen\w*|check|algorithm)\b(?!('s)? (threshold|"
    r"cut-?off))|"
    r"\breassur\w*\b|\b\w+-free\b|\bin the clear\b",
    r"\b(is|was|are|were|come back|came back) (the |this |it )?(\w+ )?negative\b|"
    r"(?<!or )\bnegative\s*[?.!]*$",
    r"\b(do|does|did|has|have|had) not (\w+ )?(have|has|show|shows|contain|demonstrate|reveal|"
    r"display|harbou?r|depict|flag|detect|find|pick up|highlight|mark|report)\b",
    r"\bnegative (sample|case|control|example|study|scan|subject|result|image|slice)\b|"
    r"\b(an? )?true negative\b",
    r"\bthere (is|are) (none|not (a |an |any )?\w+)\b|\ban? negative\b(?! for)",
    r"^(is )?f\d+ (\w+ )?(just |only )?(an? )?(artefact|artifact|noise|normal)\b|"
    r"(?<!not )(?<!n't )\bspurious\b|(?<!or )(?<!or an )(?<!or a )(?<!not an )(?<!not a )(?<!above the )(?<!over the )"
    r"(?<!beyond the )(?<!than the )\b(artefact|artifact|noise)( only| alone)?\s*[?.!]*$|(?<!or )\b(is|are) (just |only |simply |purely )?(an? )?(artefact|"
    r"artifact|noise)\b",
    r"\bi (do not|don't|dont) (think|believe|reckon)\b",
    # "this doesn't look infected", "it isn't malignant": a negated pathology predicate
    rf"\b(is|are|was|were|does|do|did) not (look|seem|appear|be)?\s*(like |as if |as though )?"
    rf"(there (is|are|was|were|be) )?(any |an? )?(\w+ )?(infected|diseased|{PATHOLOGY})\b",
    r"\bnot (like|as if|as though) there (is|are|was|were) (any|anything)\b",
    r"\b(pass|passes|passed) (as|for)\b",  # "would this slice pass as a healthy control?"
    rf"\b{PATHOLOGY}[ -]free\b",  # "lesion free?"
    # "is that just a false alarm?": the finding is not real
    r"\b(just|only|merely|simply|purely) (an? )?false (alarm|positive)s?\b|"
    # "Is F1 a false positive?", "nothing but a false alarm?": yes = not real
    r"^(is|are|was|were) (\w+[ '-]){1,6}(an? |just an? |only an? |nothing but an? |nothing more "
    r"than an? |merely an? )false (positive|alarm)s?\b|\bnothing (but|more than) an? false "
    r"(positive|alarm)\b|^(\w+[ '-]){1,4}(is|are|was|were) (just |only |merely )?an? false "
    r"(positive|alarm)s?\b|^(could|might|may|can) (\w+[ '-]){1,5}be (just |only |merely |simply )?"
    r"an? false (positive|alarm)s?\s*[?.!]*$|"
    # "Would you call F2 a false alarm?", "F2 = false alarm?"
    r"\b(call|consider|count|class|classify|label|deem|regard|write)\w* (\w+ ){0,3}(as |off as )?"
    r"(an? |just an? )?false (positive|alarm)s?\b|"
    r"\bf\d+\s*(=|:)\s*(an? )?(false (positive|alarm)|artefact|artifact|noise)\b|"
    # "Did the detector flag no regions?"
    r"\b(flag|find|found|detect|mark|highlight|pick|show|identif)\w*( up)? no (\w+ )?(regions?|"
    r"findings?|lesions?|areas?|spots?|abnormalit\w*|flags?)\b|"
    # "The bit lit up looks like a scanner artefact to me. Right?"
    r"(?<!not )(?<!n't )\b(looks?|seems?|appears?) (like |to be )?(an? |just an? |only an? )?"
    r"([\w-]+ ){0,2}(artefact|artifact|noise)\b",
    r"\bin[- ]distribution\b|\binliers?\b|\bun(operated|remarkable|touched)\b|"
    r"\bwithin (the |its |our )?([\w-]+ ){0,2}(distribution|range)\b",
    r"\b(not|n't|never) (\w+ )?(injured|damaged|bruised|affected|involved|hurt|harmed|bleeding|"
    r"infarcted|abnormal|diseased|operated|fractured)\b|"
    r"\b(ignored?|disregard(ed)?|dismiss(ed)?|forget about)\b",
    rf"{_FINDING_IS_ARTEFACT}",
    r"\b(not|n't) (\w+ ){0,2}(correspond|represent|reflect|indicate|mean)\w* (to )?(an? |any )?"
    r"(\w+ )?(real|true|genuine|actual|lesion|abnormal\w*|patholog\w*)\b",
    # "Could the ring just be a flow artefact from a vessel?", "Could the dark area be metal
    # artefact from a shunt valve?": an artefact of some kind, yes = not a lesion
    r"\b(just|only|merely|simply|purely) (be |is |are )?(an? )?([\w-]+ ){1,2}(artefacts?|artifacts?)\b|"
    r"^(could|might|may|can) ([\w-]+ ){1,5}(just |simply |only )?be (an? )?"
    r"([\w-]+ ){0,2}(artefacts?|artifacts?)\b(?!.*\b(or|rather than|instead of|versus|vs)\b)|"
    r"\b(just|only|merely|simply|purely|actually) (\w+ )?(an? )?(artefacts?|artifacts?|noise|normal "
    r"(variant|variation|anatomy|tissue|brain|structure))\b|^(\w+ ){0,3}(is|are) (an? )?"
    r"(artefact|artifact|noise|normal (variant|variation|anatomy|tissue|brain))\b|"
    r"\b(not|n't) (an? )?(true|real|genuine|actual)\b",
    # "F1 is false positive?", "F2 - false positive or not?", "F2 false positive, yes?"
    r"^(is )?f\d+\s*(-|:|=|,)?\s*(is |was )?(just |only |merely |probably |likely )?(an? )?false "
    r"(positive|alarm)s?\b",
    # "not any cyst here?", "no any bleeding?" (the question "is there not any ...?" as a phrase)
    r"^(so |and |but )?(there (is|are) )?(not|no) any\b",
    r"^(so )?no (?!(idea|clue|worries|rush|problem|need|offence|offense)\b)\w+|"
    r"(?<!yes or )(?<!or )\bno\s*\?*\s*$",
    # the detector's silence: "No detections?", "Has the model cleared it?", "Score below
    # threshold?"; reassurance: "Can I relax?", "Is it good news?"
    r"\bno (\w+ )?(detections?|flags?|hits?|alerts?|hot ?spots?|highlights?|red)\b|"
    # "Did the detector come back empty?", "Is its output empty?", "Did the model stay silent?"
    r"\b(come|comes|came|coming) (back|up) (\w+ )?(empty|blank|empty-handed)\b|"
    # "Is the heatmap blank?", "Was the reconstruction error low everywhere?": a quiet output
    rf"{_OUTPUT_QUIET}|\bgood to go\b|\bnever-operated\b|"
    r"\bexplained by (\w+ ){0,3}(noise|artefacts?|chance)\b|"
    r"\bwithout (any )?(\w+ )?(error|deviation|discrepanc\w*)s?\b|"
    rf"\b{_SEND_HOME}\b|"
    # "F1 meaningless?", "Is the hot spot insignificant?": the finding does not matter
    rf"\b{_TRIVIAL}\b|\bconfirm (that )?(there is |there are )?(none|nothing)\b|"
    r"\b(output|outputs|results?|list|findings?|detections?|report)( \w+){0,3} (empty|blank)\b|"
    r"\b(stay|stays|stayed|remain|remains|remained|kept|keep|keeps|was|is) (\w+ )?(silent|quiet)\b|"
    r"\bnot (a )?feature\b|\bnot (seen|present|evident|visible|identified)\b|\ball[- ]clear\b|"
    r"\boff the table\b|\b(is|looks?|seems?|are) (\w+ )?good\b|"
    r"\bun(injured|damaged|affected|involved|changed|scathed)\b|"
    r"\bstop worrying\b|\bnot (to )?worry\b|"
    r"\bcleared\b|\b(below|under|beneath|within) (the |its |their )?(\w+ )?"
    r"(threshold|cut-?off|alarm|alert|trigger)( level)?s?\b|\brelax\w*\b|\bgood news\b|\bnothing to be concerned\b",
)
_NOT_NORMAL = re.compile(
    r"\bother than normal\b|\boutside (of )?(the |its |our )?([\w-]+ ){0,2}(distribution|range|"
    r"reference|norm|prior)\b|"
    r"(?<!no )\bout[- ]of[- ]distribution\b|"
    r"\b(stop|prevent|keep)\w* (it|this|that|the \w+) (from )?being (a )?(\w+ )?normal\b|"
    r"\b(not|n't|never|hardly) (\w+ )?(normal|healthy|fine|ok|okay|unremarkable|clean|clear)\b|"
    r"\b(deviat\w*|differ\w*|departs?|departure|different|away|abnormal\w*) from (the )?"
    r"(normal|healthy)\b"
)
# "I can't find any lesion, correct?": a statement that nothing is there
_NOTHING_FOUND = re.compile(
    r"\b(cannot|can not|could not|do not|did not|does not|not) (\w+ )?(find|see|spot|detect|"
    r"identify|make out|appreciate)\w* (any|anything|a|an|lesions?|abnormalit\w*|tumou?rs?|"
    r"masse?s?|bleed\w*|patholog\w*)\b"
)
# "clear" / "clean" mean normal only as a predicate: "is the scan clear", "came back clean"
_CLEAR_PREDICATE = re.compile(
    r"\b(is|are|be|been|looks?|appears?|seems?|came back|comes? back|come back|all|"
    r"completely|totally|scan|brain|image|slice)\s+(clear|clean)\b|\b(clear|clean) (of|from)\b|"
    r"\bcall (it|this|that|the \w+)( one)? (clear|clean)\b|\ball[- ]clear\b|\b(clean|clear)\s*\?*\s*$|"
    r"\b(clear|clean) (scan|study|brain|image|slice|result|bill of health)\b|^\W*(clear|clean)\W*$"
)


# a request for a yes/no: "Please advise whether ...", "I need to know if ...", "Confirm the
# absence of ...", "Kindly verify that the scan is normal"
_ASK_WHETHER = re.compile(
    r"^(?!.*\b(what|where|which|how|why|who)\b).*(\bwhether\b|\b(advise|determine|establish|"
    r"verify|clarify|state|indicate|assess|ascertain|comment|report|let me know|let us know|"
    r"find out|look|figure out|needs? to know|wants? to know|like to know|asks?|asked|asking|"
    r"wonders?|wondering) (on )?if\b|"
    r"\b(confirm|verify|check|establish|ascertain|exclude|document)\w*:? (for )?(that |whether |"
    r"if )?(this|these|the|it|there|no|any|an?|my|nothing|f\d+)\b|"
    r"^(please )?(tell|assure|reassure) me (that )?(this|the|it|there|f\d+|no|nothing)\b|"
    r"\b(say|tell|show|let) (me|us) (if|whether)\b|\b(look|search|screen|scan)(ing)? (out )?for\b|"
    r"\bcheck (for|this for|the \w+ "
    r"for)\b)"
)


_OPEN_ANYWHERE = re.compile(
    r"\b(what|which|where|how|why|when|who|whose|describe|list|outline|summari[sz]e|explain|"
    r"walk me through|tell me about|point out|show)\b"
)


def yes_no_question(question: str) -> bool:
    """Whether `question` is answered by yes or no: it opens with an auxiliary verb or "any",
    or it is a bare phrase ("Tumour present y/n?", "?SOL", "So nothing was detected?"), and it
    is not a wh-question ("What is abnormal here?")."""
    q = without_hedge(normalise(question)).lstrip("?¿ ").strip()
    # "Where it glows red, is there a lesion?": the question after a leading phrase
    lead = re.match(r"^[^,?]{3,60},\s*", q)
    if lead and _YES_NO_START.search(q[lead.end() :]):
        return True
    if re.search(r"^(show|tell|point out|flag)( me| us)? (any|anything|something)\b.*\?$", q):
        return True  # "SHOW ME ANYTHING ABNORMAL?": asked as a question, it wants a verdict
    if _OPEN_START.search(q):
        return False
    if _YES_NO_START.search(q) or re.search(r"\byes or no\b|\bor not\b", q):
        return True
    if re.search(
        r"\b(know|tell me|check|see|confirm|wondering|wonders?|asks?|asked|asking|say) (if|whether)\b",
        q,
    ):
        return True
    if _ASK_WHETHER.search(q):
        return True
    # a bare noun phrase or statement with a question mark: "Tumour present?", "Clean scan?";
    # a statement or request that asks for nothing open ("you see any lesion on this picture",
    # "Flag anything abnormal on this slice.")
    return q.endswith("?") or len(q.split()) <= 6 or not _OPEN_ANYWHERE.search(q)


def existential(question: str) -> bool:
    """Whether the question asks if something exists ("Is there ...", "Any ...", "Do you see
    ...", "evidence of ...")."""
    return bool(EXISTENTIAL.search(strip_modality(without_hedge(normalise(question)))))


def asks_normal(question: str) -> bool:
    """Whether "yes" to `question` means the scan is NORMAL ("Is this MRI normal?", "Can you
    rule out a lesion?", "Is there no lesion?", "So nothing was detected?"); flipped for a
    statement framed as possibly wrong ("Am I wrong that this is normal?")."""
    n = normalise(question)
    if _TAG_IS_THERE.search(n):
        return False  # "I don't think there's a bleed. Is there?": yes = it is there
    q, wrong = without_frame(without_hedge(n))
    # "Anything wrong, and did she move during it?": the second question, about the acquisition,
    # has a yes/no of its own
    second = re.search(r",?\s*\b(and|also|plus)\s+(?=(was|were|did|is|are|has|have|any)\b)", q)
    if second and second.start() > 0 and IMAGE_ARTEFACT.search(q[second.end() :]):
        q = q[: second.start()] + "?"
    return _asks_normal(strip_modality(q)) != wrong


# "nothing here that isn't normal": two negations, a question whether it is normal
_DOUBLE_NEGATIVE = re.compile(
    r"\b(nothing|not anything|no \w+|cannot see anything|do not see anything)\b.{0,30}\b(that|which)"
    r" ((is|are|looks?|seems?) (not|n't) (normal|healthy|right|ok|okay)|should not be (there|here|"
    r"present|seen))\b"
)
# "Don't you see a lesion?", "Isn't there a mass?": asks whether it is there
_RHETORICAL_NEGATIVE = re.compile(
    r"^(do|does|did|can|could|is|are|was|were|would) not (you|we|i|it|there|this)\b"
)


# "anomalous relative to the healthy training distribution": the reference, not what is asked
_NORMAL_REFERENCE = re.compile(
    # "something in my scan that the healthy version had to remove": the reconstruction
    r"\b(the|its|a|this|their|his|her) (pseudo-?healthy|healthy|normal|lesion-free)( (looking|"
    r"-looking))? (version|reconstruction|image|copy|twin|counterpart|picture|estimate|"
    r"reference image|slice)\b|"
    r"\bnull hypothesis (of|that) (a |an |the )?([\w-]+ ){0,3}(normal|healthy)( (brain|scan|slice|"
    r"anatomy|image))?\b|"
    r"\b(under|given|according to|with respect to) (the |a |our |its )?([\w-]+ ){0,2}?(normal|"
    r"healthy)([ -](brain|anatomy|training|reference|data))*[ -](priors?|models?|distributions?|"
    r"manifold|reference)\b|"
    r"(?<=distribution )of ([\w-]+ )?(normal|healthy) (anatomy|brains?|subjects?|"
    r"controls?|scans?|volunteers?|images?)\b|"
    r"\b(beyond|outside|above|exceeding|more than) (the )?([\w-]+ ){0,2}?(normal|healthy) ([\w-]+ ){0,2}?"
    r"(variation|variability|variants?|range|limits)\b|"
    r"\b(relative to|compared (to|with)|in comparison (to|with)|against|versus|vs\.?|than|"
    r"from|with respect to|wrt) (the |a |an |our |its |your )?(\w+ ){0,2}?(normal|healthy)( (training|reference|"
    r"control|baseline|population|cohort|distribution|data|scans?|brains?|subjects?|controls?|"
    r"volunteers?|templates?|atlas|model|sets?|images?|anatomy))*\b"
)
# "What you'd expect at 80?", "age-appropriate?": yes means normal for age; "beyond what you
# would expect", "something I wouldn't expect" ask the opposite
_EXPECTED = re.compile(
    r"\b(age|sex)[- ]appropriate\b|\bappropriate for (\w+ ){0,3}age\b|\b(in keeping|"
    r"consistent|compatible) with (\w+ ){0,2}(age|ageing|aging)\b|"
    r"\bwhat (you|one|i|we|a radiologist) (would |might )?(expect|anticipate) (to see )?(for|at|in|"
    r"from|of|on|with|"
    r"with) (\w+ ){0,3}(age|ages|aged|\d+|years?|yo|eighties|seventies|sixties|fifties|forties|"
    r"elderly|old|older|young|healthy|normal)\b|"
    r"(?<!not )(?<!n't )\blooks? (like|as|the way) (it|they) should\b(?! not)"
)
_UNEXPECTED = re.compile(
    r"\b(beyond|more than|other than|outside( of)?|besides|apart from|than|deviat\w* from|"
    r"differ\w* from|depart\w* from|different from|exceed\w*|above|surpass\w*|go\w* past) what\b|"
    r"\binappropriate\b|\bnot (\w+ )?(expect|anticipate)\w*\b|\bunexpected\b"
)


_NO_EITHER = re.compile(
    rf"\b(no|without|free of|absence of) ([\w-]+ ){{0,3}}(or|nor|and) ([\w-]+ ){{0,3}}{PATHOLOGY}"
)


# "indistinguishable from the healthy controls?", "does it match the normal reference?": likeness
# to the normal reference is what is asked, so yes means normal
_LIKE_NORMAL = re.compile(
    r"\b(indistinguishable|no different|not (any )?different|similar|comparable|identical|alike|"
    r"like|resembl\w*|match(es|ing)?|in keeping|in line|consistent) (from |to |with |as )?(the |a |"
    r"an |our |its |your |any )?([\w-]+ ){0,2}?(normal|healthy)\b"
)
_NOT_LIKE = re.compile(r"\b(not|n't|never|less|hardly|barely) (\w+ )?(similar|like|comparable|"
                       r"resembl|match|consistent|in keeping|in line|identical|alike)")  # fmt: skip


# Negations the rules read whole, before any other cue (the learned polarity does not overrule
# them, `negation_decides`):
# "Is F1 not an artefact?", "more than noise?", "anything but an artefact?": yes = real
_REAL_NOT_ARTEFACT = re.compile(
    r"\b(not|never) (just |only |simply |merely |purely )?(an? )?([\w-]+ )?(artefacts?|artifacts?|"
    r"noise|blips?|glitch\w*)\b|"
    r"(?<!nothing )(?<!no )\b(more than|anything but|something other than|anything other than|"
    r"other than|beyond|anything more than|something more than) (just |only |simply |merely |purely )?(an? )?([\w-]+ )?"
    r"(artefacts?|artifacts?|noise|blips?|glitch\w*)\b"
)
# two negations: "No lesions that aren't just artefact?", "nothing that is not noise?": yes = normal
_NONE_NOT_ARTEFACT = re.compile(
    r"\b(no|nothing|not any|none)\b[^?]{0,40}\b(that|which) (is|are|looks?|seems?) not (just |only |"
    r"simply |merely )?(an? )?([\w-]+ )?(artefacts?|artifacts?|noise)\b"
)
# "anything but normal?", "not free of lesions?", "is a normal result ruled out?", "not entirely
# healthy?", "outside the normal range?": yes = abnormal
_NORMAL_NEGATED = re.compile(
    r"\b(anything|something) (but|other than|except|besides) (\w+ )?(normal|healthy)\b|"
    r"\bother than (normal|healthy)\b|\b(not|never) (\w+ )?(free of|free from|clear of)\b|"
    r"\b(normal|healthy) (\w+ ){0,3}(be |been )?(ruled out|excluded)\b|"
    r"\b(not|never) (entirely|completely|totally|fully|quite|perfectly|wholly|altogether|all that) "
    r"(normal|healthy|fine|unremarkable)\b|"
    r"(?<!not )(?<!within )\b(beyond|outside|out of|exceeding) (of )?(the |its |our |a )?([\w-]+ ){0,2}?"
    r"(normal|healthy) ([\w-]+ ){0,2}?(variation|variability|variants?|range|limits|cluster|"
    r"manifold|distribution|population|envelope|data|reference|set)\b"
)
# "Does the image fail to show any lesion?", "impossible to find anything abnormal?", "did the
# model leave every region unflagged?": yes = nothing there
_FAILS_TO_SHOW = re.compile(
    r"\bfail(s|ed)? to (show|demonstrate|reveal|contain|depict|display|flag|detect|find|pick up|"
    r"highlight|identify|see)\b|\b(impossible|unable) to (find|see|detect|spot|identify|make out|"
    r"pick up)\b|\b(leave|leaves|left) (\w+ ){0,3}un(flagged|marked|highlighted)\b"
)
# "Is F2 caused by the scanner rather than disease?": yes = not disease
_RATHER_THAN_DISEASE = re.compile(
    r"\b(rather than|instead of|and not|as opposed to) (an? |any |something |anything )?(true |real |"
    r"genuine |actual )?(lesions?|patholog\w*|disease|real|abnormalit\w*)\b"
)
# "Is is_abnormal false for this scan?": the detector's flag read out as false
_FLAG_FALSE = re.compile(
    r"\b(is[_ ])?(abnormal|anomalous|anomaly)([_ ](flag|field|label|output))?( is| =+| set to| equal to)?"
    r" (false|0|zero|off)\b"
)
# "I don't think there's a bleed. Is there?": the tag asks whether it is there
# (a question of its own, after a full stop; "There's no bleed, is there?", a tag after a comma,
# is answered as the statement it tags: "No, not normal: ...")
_TAG_IS_THERE = re.compile(r"\w[.;!?]\s*(is|are) there( one| any| some)?\s*\?*\s*$")


# "F2 is not real, is it?": a statement that a finding is not real, put up for agreement
_SAID_NOT_REAL = re.compile(
    r"^(\w+[ '-]){1,5}(is|are|was|were) (probably |likely |surely )?(not|n't) (an? )?(real|true|"
    r"genuine|actual)\b"
)


_X_OR_NO_X = re.compile(r"^(\w+( \w+)?) or no \1\W*$")


def negation_decides(question: str) -> bool:
    """Whether the question's yes/no turns on a negation that `asks_normal` reads whole ("Does
    the image fail to show any lesion?", "Is F1 not an artefact?", "Is it not the case that
    there is a bleed?"): the learned polarity does not overrule these."""
    n = normalise(question)
    q, wrong = without_frame(without_hedge(n))
    q = strip_modality(q)
    if _UNEXPECTED.search(q) and _EXPECTED.search(q):
        return True  # "Does this differ from what you'd expect in a healthy adult?"
    if _X_OR_NO_X.match(q) or re.match(r"^(so |and |but )?(there (is|are) )?(not|no) any\b", q):
        return True  # "Stroke or no stroke?": yes = a stroke; "not any cyst here?": yes = none
    return wrong or bool(_TAG_IS_THERE.search(n)) or any(
        rx.search(q)
        for rx in (_REAL_NOT_ARTEFACT, _NORMAL_NEGATED, _FAILS_TO_SHOW, _RATHER_THAN_DISEASE,
                   _TAG_IS_THERE, _FLAG_FALSE, _NONE_NOT_ARTEFACT, _SAID_NOT_REAL)
    )  # fmt: skip


def _asks_normal(q: str) -> bool:
    if _X_OR_NO_X.match(q):  # "lesion or no lesion": yes = a lesion
        return False
    q = re.sub(r"[\s:,(-]*\byes or no\b[).?!\s]*$", "?", q)  # "F2: noise Y/N", "Bleed (yes or no)?"
    if _NONE_NOT_ARTEFACT.search(q):  # "No lesions that aren't just artefact, right?"
        return True
    if re.search(r"\b(free (of|from)|without)\b[^?]{0,40}\bout[- ]of[- ]distribution\b", q):
        return True  # "free of any tumour-like out-of-distribution mass?"
    if _TAG_IS_THERE.search(q) or _REAL_NOT_ARTEFACT.search(q) or _NORMAL_NEGATED.search(q):
        return False
    if _FAILS_TO_SHOW.search(q) or _RATHER_THAN_DISEASE.search(q) or _FLAG_FALSE.search(q):
        return True
    if re.search(
        r"\b(flags?|findings?|detections?|lesions?|hits?|abnormalit\w*)\s*[:=,]\s*(none|nil|"
        r"zero|0|no|negative)\b",
        q,
    ):  # "AI flags: none? Y/N"
        return True
    if _LIKE_NORMAL.search(q) and not _NOT_LIKE.search(q):
        return True
    if _EXPECTED.search(q) and not _UNEXPECTED.search(q):
        return True  # "what you'd expect from a healthy subject?" (before the reference goes)
    if re.fullmatch(r"\W*(none|nil|nothing)\W*", q):  # "AI flags: none? Y/N"
        return True
    null = re.search(r"\b(accept|keep|retain|reject|refute|discard)\w* (the |a |our )?null\b", q)
    if null:  # "Can we accept the null hypothesis that this brain is healthy?": yes = normal
        return null.group(1) in ("accept", "keep", "retain")
    q = _NORMAL_REFERENCE.sub(" ", q)
    if _UNEXPECTED.search(q):
        return False
    if _EXPECTED.search(q):
        return True
    if _NO_EITHER.search(q):  # "Please confirm no acute or old infarct."
        return True
    # "Is this scan normal or not?", "Are there lesions or is it normal?": the first
    # alternative is the one "yes" answers
    first = re.split(r",? \b(?:or|rather than|instead of|as opposed to)\b", q, maxsplit=1)[0]
    if re.search(r"[a-z]", first) and len(first.split()) >= 2:
        q = first
    if _DOUBLE_NEGATIVE.search(q):
        return True
    if _NOT_NORMAL.search(q):
        return False
    if _RHETORICAL_NEGATIVE.search(q) and not re.search(rf"\b{NORMAL_WORD}\b", q):
        return False
    if re.search(r"\bclear\b|\bclean\b", q) and not _CLEAR_PREDICATE.search(q):
        q = re.sub(r"\b(clear|clean)\b", " ", q)
    if re.search(r"\bshould ?n[o']?t be\b|\bshould not be\b", q):
        return False  # "anything that shouldn't be there"
    return bool(_NORMAL_ASK.search(q) or _NOTHING_FOUND.search(q))


# ----------------------------------------------------------------------------- the parser
def _about(q: str) -> str:
    ids = FINDING_ID.findall(q)
    return f"finding:F{ids[0]}" if ids else "image"


# a side in the clinical history: "new R hand numbness", "left-sided weakness", "right facial
# droop" (the patient's symptom, not the side asked about)
_SYMPTOM_SIDE = re.compile(
    r"\b(left|right)(-| )(sided )?(hand|arm|leg|foot|face|facial|body|limb|upper limb|lower limb|"
    r"hemi(paresis|plegia|anopi\w*|sensory|body)|weakness|numbness|tingling|paraesthesia\w*|sensory|motor|visual field|eye|ear|"
    r"hearing|ptosis|pronator|neglect|homonymous|droop|clumsiness|ataxia|tremor|focal seizures?)\b"
)


def _side(q: str) -> bool:
    if not SIDE.search(q):
        return False
    t = _NOT_SIDE_LEFT.sub(" ", _NOT_SIDE_RIGHT.sub(" ", _SYMPTOM_SIDE.sub(" ", q)))
    t = re.sub(r"\bside effects?\b", " ", t)
    return bool(SIDE.search(t))


def _copula_cause(q: str) -> bool:
    m = _COPULA.search(q)
    if not m:
        return False
    what = m.group("what").strip()
    return bool(what) and not _NOT_WHAT.search(what)


# "I think this is normal" put up for agreement: what is asked is "this is normal"
_THINK = re.compile(
    r"^(i (think|thought|believe|guess|reckon|would say)|to me|"
    # "My registrar thinks F1 is an artefact; is she right?": someone else's claim, checked
    r"(my|the|our|her|his|their) ([\w-]+ ){0,2}(thinks|thought|says|said|believes|reckons|feels|"
    r"suggested|suggests|wrote|reported))( that)?\s+"
)

# a polite or unsure preamble before the question proper: "Sorry if this is a silly question,
# but ...", "I might be wrong but ...", "Not sure I read this right, ..."
HEDGE = re.compile(
    r"^(sorry|apologies|apologi[sz]e|excuse me|forgive me|pardon|quick question|one question|"
    r"not sure|i am not sure|i am unsure|unsure|i (might|may|could) be (wrong|mistaken|missing "
    r"something|overthinking( this| it)?)|"
    r"correct me if i am wrong|this (may|might|could) be a (silly|stupid|dumb|naive) question|"
    r"(maybe|probably|perhaps) a (silly|stupid|dumb|naive) question|(silly|stupid|dumb|naive) "
    r"question|newbie (here|question)|just (checking|curious|wondering|to (double[- ])?check)|"
    r"out of curiosity|hmm*|um+|uh+|honestly|frankly|hi|hello|hey|"
    r"i am (a|an) (\w+[ -]){0,3}(resident|registrar|student|trainee|fellow|radiologist|"
    r"neurologist|neurosurgeon|clinician|doctor|researcher|intern|physician|nurse)|"
    r"i am not (totally |entirely |very |quite |completely )?(sure|confident|certain)|"
    r"i (think|thought|believe|guess)\b)\b[^?]{0,120}?(,\s*but\b|\bbut\b|,|:|;|\s-\s|\.\.+|…)"
    r"\s*"
)


# a statement put up for agreement: "I think this is normal, would you agree?", "Nothing there,
# no?"; the statement is what is asked
AGREE_TAG = re.compile(
    r"(,|\s-|\.\.+|…)?\s*(would you agree|do you agree|agreed|agree|don't you think|do you not "
    r"think|would you not (agree|say)|wouldn't you (agree|say)|would you say so|yes|yeah|no|"
    r"right|correct|true|ok|okay|yes or no|am i (right|correct|wrong)|is that (right|correct)|"
    r"(is|are) (she|he|they),? (right|correct)|"
    r"would you (do the same|too|as well|say the same|do so)|"
    r"(is|does|do|did|was|are|were|has|have) (it|this|that|they|there)|(is|does|do|did|was|are|were|has|have) not (it|this|that|"
    r"they|there))\s*\?+\s*$"
)


# a question after context: "58M, headaches. Anything on this slice?", "That hotspot - is it
# real?"; the last part is the question
_PREFACE = re.compile(
    r"^(.{2,200}?)(\.\s+|!\s+|\s+-+\s+|\s*;\s+|:\s+)(?=[^.!;:]{3,}\?\s*$|"
    r"(please |kindly |so )?(check|tell|confirm|let me know|advise|report|look|i need|i want|"
    r"i would like|need to know|can you|could you|please|is there|are there|any|"
    r"(\w+ ){0,3}(asks?|asked|asking|wants? to know|would like to know|wonders?|wondering|"
    r"needs? to know|requests?|requesting|queries|querying)( me| us)? (if|whether))\b[^.!;:?]{3,}"
    r"[.!]?\s*$)"
)
# "Stroke or tumour, what do you think?": a short lead, then the question
_LEAD_THEN_ASK = re.compile(
    r"^[^,?]{3,60},\s*(?=(what|which|where|how|why|is|are|could|can|do|does|did|would)\b)"
)
_REQUEST_START = re.compile(
    r"^(please |kindly |so )?(check|tell|confirm|let me know|advise|report|look|looking|i need|"
    r"i want|i would like|need to know|can you|could you|please|(we are|i am) looking|"
    r"(\w+ ){0,3}(asks?|asked|asking|wants? to know|would like to know|wonders?|wondering|"
    r"needs? to know|requests?|requesting|queries|querying)( me| us)? (if|whether))\b"
)
# a closing courtesy or instruction after the question: "... Thanks.", "Keep it short."
_COURTESY = (
    r"(thanks( a lot| so much)?|thank you( so much)?|thx|cheers|ta|many thanks|"
    r"keep it (short|brief|concise)|brief(ly)?( answer)?|short answer|be brief|one line|asap|"
    r"urgent(ly)?)( please)?"
)
_COURTESY_TAIL = re.compile(rf"(?<=[.!?])\s*{_COURTESY}([,;.!]?\s*{_COURTESY})*[.!]*\s*$")


_BARE_CHECK = re.compile(
    r"^(is it|was it|were they|has it|did it|does it|did they|do they|have they|is there|"
    r"is that (so|right|correct|true)|is that|am i right|(is|are) (she|he|they),? (right|correct)|"
    r"right|correct|true|agree|can i|may i|"
    r"could i|is that (ok|okay|fine|reasonable|safe)|would that be (ok|okay|fine|right|reasonable)|"
    r"is (that|this) what (this|it|the \w+) (shows?|says?|finds?)|does (this|it|the \w+) (show|"
    r"confirm|support) (that|this|it)|"
    r"do you agree|yes or no|((can|could|would|will) you (please )?)?(double[- ]?check|confirm|"
    r"verify|check)( (that|if|whether) (i am|i was|this is|that is|it is) (right|correct|true))?)\W*$"
)
_UNSURE_TAIL = re.compile(
    r",?\s*(but|and) i am (\w+ )?(not|un)\w* (\w+ )?(sure|confident|certain)\b.*$"
)


def without_hedge_only(q: str) -> str:
    """`q` without polite or unsure preambles (`HEDGE`), nothing else."""
    for _ in range(3):
        shorter = _without_one_hedge(q)
        if shorter == q:
            break
        q = shorter
    return q


def without_preface(q: str) -> str:
    """`q` without the context before its final question; a preface that names what is asked
    about (the map, the reconstruction, the cases, a finding) is kept, joined by a comma."""
    q = _COURTESY_TAIL.sub("", q).strip()  # one or more: "Thanks, keep it short.
    # "..., since that changes the differential?": the reason is not what is asked
    q = re.sub(r",\s*(since|because|as) [^?,]{5,}(?=\?)", "", q)
    tail = re.search(r"\?\s+([^?]{3,}?)[.!]?\s*$", q)
    if (
        tail
        and (_YES_NO_START.search(tail.group(1)) or _OPEN_START.search(tail.group(1)))
        and not (_YES_NO_START.search(q) or _OPEN_START.search(q))
    ):
        # "new onset seizures? does the brain look normal" (dictated, the question mark early):
        # the context, then the question
        q = f"{q[: tail.start()]}. {tail.group(1)}?"
    q = re.sub(r"(\?)\s+[^?]{3,}[.!]?\s*$", r"\1", q)  # "Left or right? Remember ...."
    m = _PREFACE.match(q)
    if not m:
        return q
    rest = q[m.end() :]
    if _BARE_CHECK.match(rest):  # "I think it's normal. Is it?": the statement is asked
        return _UNSURE_TAIL.sub("", _THINK.sub("", m.group(1))) + "?"
    rest = without_hedge_only(rest)
    if not (_YES_NO_START.search(rest) or _OPEN_START.search(rest) or _ASK_WHETHER.search(rest)
            or _REQUEST_START.search(rest) or _LEAD_THEN_ASK.match(rest)):  # fmt: skip
        # "Registrar. 49F, headaches. F1 - what are its dimensions?": a preface inside the rest;
        # "Your output says nothing much, but could a bleed have been missed?"
        inner = without_preface(rest) if _PREFACE.match(rest) else rest
        if inner == rest:
            but = re.search(r",?\s+but\s+(?=(could|can|is|are|does|do|did|was|might|may|would|"
                            r"should|has|have|what|where|how|which|why)\b)", rest)  # fmt: skip
            inner = rest[but.end() :] if but else rest
        return inner if inner != rest else q
    if MAP.search(m.group(1)) and _OPEN_START.search(rest) and not _MAP_MEANING.search(rest):
        return rest  # "The red blob - where is that?": the map only points at the finding
    cues = (MAP, PSEUDO, CASES, FINDING_ID)
    if any(c.search(m.group(1)) for c in cues) and not any(c.search(rest) for c in cues):
        named = FINDING_ID.search(m.group(1))
        if named and not any(c.search(m.group(1)) for c in cues[:3]):
            # "F1 would change management, I'm his neurologist. How certain is the model about
            # it?": the finding is the subject, the rest of the context is not what is asked
            return f"{named.group(0)}: {rest}"
        return f"{m.group(1)}, {rest}"
    unanchored = not ANCHOR.search(re.sub(r"\byou\b", " ", rest)) and not DOMAIN.search(rest)
    # "... need the maximum diameter of the lesion. What is it?", "Looking for abscess - any on
    # this slice?": a bare question takes its subject from the context
    pre = m.group(1)
    bare = (
        len(rest.split()) <= 4
        and any(c.search(pre) for c in (SIZE, INTENSITY, COUNT, LOCATION_ASK))
    ) or (EXISTENTIAL.search(rest) and not PRESENCE.search(rest) and PRESENCE.search(pre))
    if (unanchored or bare) and (ANCHOR.search(pre) or DOMAIN.search(pre)):
        # "... wants a differential for the lesion. What are the options?": the context says
        # what the bare question is about
        return f"{m.group(1)}, {rest}"
    return rest


def without_hedge(q: str) -> str:
    """`q` without the context before its final question (`without_preface`), polite or unsure
    preambles (`HEDGE`, one after another), when a question follows them, and a closing tag
    that asks for agreement (`AGREE_TAG`)."""
    q = without_preface(q)
    tag = AGREE_TAG.search(q)
    if tag and (tag.group(1) or len(tag.group(2).split()) > 1):
        statement = q[: tag.start()].strip(" ,.")
        if len(statement.split()) >= 2:
            q = _THINK.sub("", statement) + "?"
    return without_hedge_only(q)


def _without_one_hedge(q: str) -> str:
    m = HEDGE.match(q)
    if not m:
        return q
    said, rest = m.group(0), q[m.end() :]
    if _THINK.match(said) and _BARE_CHECK.match(rest):
        # "I think there's no bleed here, am I right?": the statement is what is asked
        return _THINK.sub("", said.rstrip(" ,:;-.…")) + "?"
    named = FINDING_ID.search(said)
    if named and not FINDING_ID.search(rest) and re.search(r"\b(it|this|that)\b", rest):
        # "I'm not sure how to read F2 - is it simply normal tissue?": the question is about F2
        return re.sub(r"\b(it|this|that)\b", named.group(0), rest, count=1)
    if not re.search(r"[a-z]", rest) or any(
        cue.search(said) for cue in (MAP, PSEUDO, CASES, FINDING_ID)
    ):
        return q  # the preamble names what is asked about ("not sure what the map shows - ...")
    return rest


# a question about a statement: "Am I wrong that this is unremarkable?", "Would it be wrong to
# say this isn't normal?", "Am I right that nothing is there?"; what is asked is the statement
# (its yes/no flipped after "wrong", `asks_normal`)
STATEMENT_FRAME = re.compile(
    r"^((can|could|may) (we|i|you) (say|state|call it)( that)?\s+|"
    r"(would|do|does|did) (you|anyone) disagree (that|with saying)?\s*|"
    r"(you would|would you|do you|you) agree( that| with saying)?\s+|"
    r"(am i|is it|would it be|would i be|was i|is that|would that be|are we) "
    r"(wrong|incorrect|mistaken|right|correct|fair|accurate|ok|okay|true|not true|not the case|"
    r"untrue|false)( (that|to say|to call|"
    r"in saying|in thinking|if i say|if i call|to think))?\b\s*)"
)
_WRONG_FRAME = re.compile(
    r"\b(wrong|incorrect|mistaken|disagree|untrue|false|not true|not the case)\b"
)


# what would settle it: "what would make you more confident", "if i wanted more certainty what
# else should be done" (what would clarify the reading, not how sure it is)
_MORE_CERTAINTY = re.compile(
    r"\bwhat (would|could|might|will|else would) (make|get) (you|me|us|it|this|the (detector|model|"
    r"tool|reading)) (\w+ )?(more )?(confident|certain|sure)\b|"
    r"\bmore (certainty|confidence|certain|confident|sure)\b.{0,40}\bwhat (else )?(should|could|can|"
    r"would|do|must)\b|\b(how|what) (can|could|would|do) (i|we) (get|gain|achieve) more (certainty|"
    r"confidence)\b|"
    # "what else would you want before calling it normal", "what would you need before signing
    # it off"
    r"\bwhat (else |more )?(would|do|should|will|might) (you|i|we|one) (\w+ )?(want|need|require|"
    r"like|check|see|get|look at)\b.{0,25}\b(before (calling|call|signing|sign|reporting|report|"
    r"saying|say|declaring|labell?ing)|to (characteri[sz]e|clarify|work up|sort out|pin down) "
    r"(it|this|that|the (lesion|finding|region)))\b|"
    # "would a CT have been better?", "would contrast have helped?"
    r"\bwould (a |an )?(ct|mri|dwi|flair|swi|pet|contrast|gad\w*|another scan)( scan)? (have been|"
    r"be) (better|more useful|more helpful)\b|\bwould (a |an )?(ct|contrast|dwi|flair) (have )?"
    r"help(ed)?\b"
)


# "Did the scan pass the applicability check, or is it out of domain?"
_APPLICABILITY_ASK = re.compile(
    r"\b(applicability( check)?|in (the )?domain|out of (the )?domain|within (the )?domain|"
    r"pass(ed)? the (domain |applicability )?check)\b"
)
# "how does the top one compare with this scan?" (after "show me similar cases")
_TOP_CASE = re.compile(
    r"\b(top|first|second|closest|best|nearest) (one|case|match|hit|result)\b.{0,40}\bcompar\w*|"
    r"\bcompar\w*\b.{0,40}\b(top|first|closest|best|nearest) (one|case|match|hit)\b"
)
_WHAT_IS_GOING_ON = re.compile(
    r"^\W*(so |ok |okay )?(what'?s|what is|whats) (going on|happening|up)( here| with (it|this|the "
    r"(scan|slice|image))| in (this|the) (slice|scan|image))?\W*$"
)
# "mets, abscess or GBM, which fits best?": a differential, whatever else the text names
_WHICH_FITS = re.compile(
    r"\b(which|what) (one |of (these|them|those) )?(fits|matches|is (the )?best fit)\b|"
    r"\bwhich (would|do) you favou?r\b"
)
_SHOWN_SLICE_NUMBER = re.compile(
    r"\b(slice|level|section) (shown|displayed|on (the )?screen)\b.*\b(which|what) (number|one)\b|"
    r"\b(which|what) (number|slice number) is (the )?(slice )?(shown|displayed|this slice)\b"
)
# a lesion of the brain asked about after a history that names another organ
_BRAIN_LESION_ASKED = re.compile(
    r"\b(brain|intracranial|cerebr\w*|lesions?|ring|abscess\w*|glio\w*|metasta\w*)\b.*\?"
)


def _last_sentence(q: str) -> str:
    return re.split(r"(?<=[.!;])\s+", q.strip())[-1]


def _kind_asked_after_a_history(q: str) -> bool:
    """Whether `q` is a history, then a question that names a kind of lesion: "34M with
    thunderclap headache yesterday. SAH?" asks about the scan, whatever the history says."""
    sentences = re.split(r"(?<=[.!;])\s+", q.strip())
    if len(sentences) < 2:
        return False
    return bool(re.search(rf"\b({PATHOLOGY}|{FINDING_TERMS})", sentences[-1]))


def without_frame(q: str) -> tuple[str, bool]:
    """(the statement a framed question asks about, whether the frame says "wrong"), or
    (`q`, False) when it has no such frame."""
    m = STATEMENT_FRAME.match(q)
    if not m or not re.search(r"[a-z]", q[m.end() :]):
        return q, False
    return q[m.end() :], bool(_WRONG_FRAME.search(m.group(0)))


# "Would you stake a report on it?": how sure
_REPORT_AS = re.compile(
    r"\breport (this|it|the (scan|study|slice|image)) as\b|\bcall (this|it|the \w+) (an? )?(\w+ )?"
    r"(normal|abnormal)|\b(put|write|say|state)\b.{0,60}\b(in|into|"
    r"on) (the|my|our|your) report\b"
)
_STAKE = re.compile(
    r"\b(stake|bet|put (my|your|our) (name|money|house))\b|\bhow much weight\b|\bweight "
    r"(should|would|can|do) (i|we|you) (put|give|place|attach)\b"
)
# "Is there any pathology that I am missing?": the user's own miss, not the detector's
_USERS_MISS = re.compile(
    r"\b(that |which )?(i|we) (am |are |might be |may be |could be |have |might have |may have )?"
    r"(missing|missed|overlooking|overlooked|not seeing)\b"
)
_FOR_A_LETTER = re.compile(r"\b(letter|note)\b")


_DIAGNOSIS_CLASS = re.compile(
    r"\b(which|what) (\w+ )?(patholog\w*|diagnos\w*|disease|class|category|entity|condition)"
    r"( class| category| type)? (does|do|would|might|could) (\w+ ){1,3}(most )?(resemble|match|fit|"
    r"look like)\b"
)
_COULD_IT_BE = re.compile(
    rf"^(so |and |but )?(could|might|may|can) {REFERENT} (\w+ )?(be|represent)\b"
)
_COULD_BE_NOTHING = re.compile(
    rf"^(so |and |but )?(could|might|may|can) {REFERENT} (\w+ )?(be|turn out to be) (just |simply |"
    r"merely |only )?(nothing( at all| really)?|noise|written off( as \w+)?|(safely )?"
    r"(discounted|dismissed|disregarded|ignored|put down|chalked up) as (just |simply |merely )?"
    r"(an? )?(\w+ )?(noise|artefact|artifact|nothing|glitch|error))\s*[?.!]*$"
)
# "Could the dark spot near the cerebellum be a stroke?", "Is the bright area in the left frontal
# lobe a tumour?": a finding described by its look or place, asked whether it is a named
# diagnosis (what it is: cause), whatever place, side or signal words describe it; the diagnosis
# is the predicate, at the end ("Is the area of oedema large?" is not one)
_MORE_DIAGNOSES = (
    r"(?:haematom\w*|hematom\w*|fat|fatty|lipom\w*|melanin|calcium|blood|clot|holes?|gaps?|fluid|"
    r"csf)"
)
_DESCRIBED_DIAGNOSIS = re.compile(
    rf"^(so |and |but )?(((could|might|may|can|would) (the|this|that|these|those) ([\w'-]+ ){{0,3}}"
    rf"{LESION_NOUN}( [\w'-]+){{0,8}}? (possibly |perhaps |really )?(be|represent|indicate|reflect|"
    rf"be due to|be consistent with|correspond to))|((is|are) (the|this|that|these|those) "
    rf"([\w'-]+ ){{0,3}}{LESION_NOUN}( [\w'-]+){{0,8}}?( possibly| perhaps| really| likely)?)) "
    rf"((an?|the|some|early|old|acute|chronic|subacute|small|possible|likely|focal) )*"
    rf"([\w'-]+ ){{0,2}}({DIAGNOSIS}|{_MORE_DIAGNOSES})( {DIAGNOSIS}| lesions?| disease| changes?|"
    r" event| focus)*( (or|rather than|vs\.?|versus) [^?]*|,? (like|such as|e\.?g\.?) [^?]*|"
    r" (in your (opinion|view)|do you think|at all)| in (the|his|her|their|this|my) (brain|head))?"
    r"\s*[?.!]*\s*$"
)
# "hyperintense on T1, could it be blood products?": a description, then the question proper in
# the last clause, whether it is a named diagnosis (what it is, not its signal)
_LAST_CLAUSE_DIAGNOSIS = re.compile(
    rf"[,;:.-]\s+(so |and |but )?(could|might|may|can) (it|this|that|they|these|those) "
    rf"(\w+ )?(be|represent|indicate|reflect) (\w+ ){{0,3}}({DIAGNOSIS}|{_MORE_DIAGNOSES})\b"
    r"[^,;:.]*[?.!]*\s*$"
)
# "dark spot on the R, infarct?", "bright bit on the left - is it a bleed?": a described
# finding, then the kind asked of it (not its side)
_DESCRIBED_THEN_KIND = re.compile(
    rf"\b(spot|bit|area|patch|blob|thing|lesion|region|shadow|focus|dot|mark)\b[^,;:?]{{0,40}}"
    rf"\s*[,;:-]+\s*(so |then )?((is|could|might) (it|this|that|that one)( \w+)? )?(be )?(an? )?"
    rf"([\w'-]+ )?({DIAGNOSIS}|{_MORE_DIAGNOSES})\s*\?*\s*$"
)
# "What is the bright patch on the left?", "what's this ring-shaped thing?": what a described
# thing is (the place words describe it)
_WHAT_IS_THE_THING = re.compile(
    r"^\W*(so |and |ok |okay |then |but )?what (is|are|'s|s) (the|this|that|these|those) "
    r"([\w'-]+ ){0,3}(patch|spot|bit|area|thing|shape|shadow|blob|mark|dot|ring|structure|"
    r"circle|lump|smudge|splodge|blotch)(es|s)?\b( (on|in|at|near|to|towards) [^?]{0,40})?\s*\?*\s*$"
)
# "dark on T1 means fluid, so is it a cyst?": a premise, then the kind asked
_LAST_CLAUSE_KIND = re.compile(
    rf"[,;:.-]\s+(so |then |and )?(is|could) (it|this|that) (be )?(an? )?([\w'-]+ )?({DIAGNOSIS}|"
    rf"{_MORE_DIAGNOSES})\s*\?+\s*$"
)
_CONSISTENT_WITH_DIAGNOSIS = re.compile(
    rf"^(so |and |but )?(is|are|could|would) (that|this|it|these|those|f\d+) (\w+ )?(be )?"
    rf"(consistent|compatible|in keeping|typical) (with|of) (?!no |not |without |absence )(an? )?"
    rf"([\w'-]+ ){{0,2}}"
    rf"({DIAGNOSIS}|{_MORE_DIAGNOSES})\b"
)
# "Would DWI help to tell abscess from tumour?": whether a test would help (next steps), however
# much the words of a kind of lesion make it read like a presence question
_WOULD_A_TEST_HELP = re.compile(
    r"\b(would|could|will|might|does|do|can|is|are) (an? |the |some )?([\w-]+ ){0,3}(help|useful|"
    r"worth\w*|add anything|be of use)\b.{0,30}\b(tell|distinguish|differentiate|separate|"
    r"discriminat\w*|characteri[sz]\w*|clarify|confirm|exclude|narrow)\b"
)
# "Is the lesion near the ventricles bright?", "Does the spot in the left frontal lobe look dark
# or bright?": a described finding whose predicate is its signal (intensity, not its place)
_DESCRIBED_SIGNAL = re.compile(
    rf"^(so |and |but )?(is|are|does|do) (the|this|that|these|those) ([\w'-]+ ){{0,3}}{LESION_NOUN}"
    rf"( [\w'-]+){{0,8}}? ((look|appear|seem)s? )?(rather |more |quite |very |really )?"
    r"(bright(er)?|dark(er)?|hyper-?intense|hypo-?intense|iso-?intense|hyper|hypo|white|black|"
    r"high signal|low signal)( (or|and) (bright(er)?|dark(er)?|hyper-?intense|hypo-?intense|"
    r"iso-?intense|hyper|hypo|white|black|grey|gray|high signal|low signal))?"
    r"( (than|compared (to|with)|relative to) [^?]*)?\s*[?.!]*\s*$"
)
# "Is the lesion near the ventricles large?": a described finding whose predicate is its size
_DESCRIBED_SIZE = re.compile(
    rf"^(so |and |but )?(is|are|does|do) (the|this|that|these|those) ([\w'-]+ ){{0,3}}{LESION_NOUN}"
    rf"( [\w'-]+){{0,8}}? ((look|appear|seem|measure)s? )?(rather |quite |very |really |too )?"
    r"(large|big|small|tiny|huge|sizeable|sizable|significant in size|(larger|bigger|smaller|more|"
    r"less|over|under) than [^?]*)\s*[?.!]*\s*$"
)
_HOW_TELL = re.compile(
    r"\bhow (can|could|do|would|did|should) (i|we|you|one) (tell|know|see|check|confirm|verify|be "
    r"sure)\b"
)


_SELF_AS_PATIENT = re.compile(
    r"\b(i am|i'm|im) (the )?patient\b|\bmy own (brain|scan|mri|head|results?)\b|\bthis is my "
    r"(own )?(brain|scan|mri|head)\b|"
    # "I'm 30 weeks pregnant with headaches, is my scan normal?": a patient asking about her own
    # (not a clinician's "I have a patient with headaches")
    r"^(?!.*\b(patients?|pt|\d{1,2} ?[mf]|year[- ]old|yo|he|she|her|his|him|they|their)\b).*"
    r"\b(i am|i'm|im|i have|i've|i had)\b[^?.]{0,60}\b(pregnant|headaches?|migraines?|seizures?|"
    r"symptoms?|pain|dizz\w*|numb\w*|tingling)\b.{0,60}\bmy (scan|mri|brain|head|results?)\b"
)
# "Which slices did you actually analyse?", "How many levels were looked at?": what of the scan
# the detector analysed (the acquisition and its processing), not whether something is there
ANALYSED_SLICES = re.compile(
    # "which levels did you look at"
    r"\b(which|what) (\w+ )?(slices?|levels?|sections?) (did|have|do) (you|it|the (model|detector|"
    r"ai|tool)) (\w+ )?look\w* at\b|"
    r"\b(which|what|how many) (\w+ )?(slices?|levels?|sections?|parts? of the (volume|scan|brain))"
    r"\b.{0,40}\b(analy[sz]\w*|looked at|assess\w*|examin\w*|check\w*|covered|process\w*|"
    r"includ\w*|run on|based on)\b|\b(did|do|have) (you|it|the (model|detector|ai|tool)) (\w+ )?"
    r"(analy[sz]\w*|look\w* at|assess\w*|check\w*|cover\w*) (the )?(whole|entire|every|all)"
    r"( of the)? (volume|scan|brain|slices?|levels?)\b|"
    # "does this analysis cover the whole brain?", "what about outside the levels you looked at"
    r"\b(analysis|reading|result|detector|model) (\w+ )?(cover|include|span)s? (the )?(whole|entire|"
    r"full|all( of)?( the)?) (volume|scan|brain|head|study)\b|\b(outside|beyond|apart from|besides) "
    r"(the )?(levels?|slices?|sections?) (you|it|the (model|detector)) (\w+ )?(look\w* at|analy[sz]\w*|"
    r"check\w*|saw)\b|"
    # "How much of the brain did you actually analyse?", "Was the whole brain analysed?"
    r"\bhow much of (the |this |his |her )?(brain|scan|volume|head|study|image)\b.{0,30}\b(analy[sz]\w*|"
    r"look\w* at|assess\w*|examin\w*|check\w*|covered|process\w*|seen|read)\b|\b(was|were|is|has|have) "
    r"(the )?(whole|entire|full|all( of)?( the)?) (brain|volume|scan|head|study|slices|levels)( been)? "
    r"(analy[sz]\w*|looked at|assess\w*|checked|covered|processed|read|seen)\b"
)
# "can it be treated?", "is it curable?": a clinical question, answered as a next step
_TREATABLE = re.compile(
    r"\bcan (it|this|that|she|he|they) be (treated|cured|fixed|operated on|removed|managed)\b(?! as)|"
    r"\b(is|are) (it|this|that|they) (treatable|curable|operable)\b"
)
# "what does the dark area mean?": what a described finding may be
_WHAT_IT_MEANS = re.compile(
    r"\bwhat (does|do|could|might) (the|this|that|these|those) (\w+ ){0,2}(area|spot|patch|region|"
    r"lesion|finding|shadow|blob|mark|change|signal|bit)s? (mean|signify|represent|indicate)\b"
)
# "could this just be an artefact from the scanner?": whether a region is real
_SCANNER_ARTEFACT = re.compile(
    r"\b(artefact|artifact|glitch|noise)\b.{0,30}\b(scanner|machine|magnet|motion|movement)\b"
)
# "lesion volume in cc?": a size, whatever else the question says
_VOLUME_IN_UNITS = re.compile(
    r"\b(volume|size|load)\b.{0,30}\b(in )?(cc|ccs|ml|mls|millilit\w*|cm3|cm³|mm3|mm³|cubic)\b"
)
# "is that ring thing the cause of her seizure?": whether a finding explains a symptom
_CAUSE_OF_A_SYMPTOM = re.compile(
    r"\b(the )?(cause|reason|explanation) (of|for) (her|his|their|the|this|these|my|your) "
    r"(\w+ )?(seizures?|fits?|symptoms?|headaches?|weakness|numbness|confusion|dizziness|"
    r"vertigo|problems?|deficits?|palsy|aphasia|speech)\b|"
    # "does this dark spot explain her left sided weakness?"
    r"^\W*(does|do|could|can|would|might) (this|that|it|the) ([\w-]+ ){0,3}(explain|account for|"
    r"cause) (her|his|their|the|this|these|my|a|an) ([\w-]+ ){0,2}(seizures?|fits?|symptoms?|"
    r"headaches?|weakness|numbness|confusion|dizziness|deficits?|hemiparesis|hemiplegia|"
    r"aphasia|dysphasia|ataxia|palsy)\b"
)
# "what can you do then", "how can you help?": what the assistant can do (not a next step)
CAPABILITIES = re.compile(
    r"^\W*(so |ok |okay |and |then |well )?what (can|could|do|does) (you|it|this (tool|thing|"
    r"assistant|app)|the (tool|assistant|detector|app)) (do|offer|help with|tell me)( then| instead| at all|"
    r"( for)? me| here| exactly)?\W*$|^\W*(so |ok |and )?how (can|could) (you|it) help( me)?\W*$|"
    r"^\W*what are (your|its) (capabilities|abilities|functions)\W*$|"
    # "you can do chest xray or only brain?", "does it work on CT too?"
    # "can you do a CT head instead?"
    r"\b(can|could) (you|u|it) (also )?(do|read|handle|analy[sz]e|look at) (a |an |the )?(ct|"
    r"x-?rays?|cxr|chest|spine)\b(?!.{0,20}\b(scan|image|picture)s? of the brain)|"
    r"\b((can|could) (you|u|it|the (tool|detector|model|ai))|(you|u|it) (can|could)) (also )?(do|read|"
    r"handle|analy[sz]e|"
    r"work (on|with)|process|look at) (a |an )?(chest|ct|x-?rays?|cxr|spine|knee|abdom\w*|other)\b.{0,30}"
    r"\b(or )?(only|just)\b|"
    r"\b(do|does|will|would) (you|u|it|the (tool|detector|model|ai)) (also )?(work|run) (on|with) "
    r"(ct|x-?rays?|chest|other (scans|images|modalities|body parts))\b|"
    # "what does this program do?", "what does this tool look for?"
    r"\bwhat (does|do|can) (this|the) (program|programme|tool|app|thing|ai|software|assistant|"
    r"system|detector) (actually |really |exactly )?(do|look for|check( for)?|detect|find|show)\b"
)
# "analyse this pls", "can you read this one for me": read the scan (what was found)
# "this", "her MRI", "the patient's scan": the scan being asked about
_THE_SCAN = (
    r"(this|it|this one|(this|the|her|his|their|our|my patient'?s|the patient'?s) (brain |head )?"
    r"(scan|image|images|study|slice|volume|vol|mri|mr|x-?ray|film|series))"
)
ANALYSE_THIS = re.compile(
    r"^\W*(ok |okay |so |then |now )?(please |pls |plz |can you |could you |would you |just )?"
    r"(analy[sz]e|read|interpret|review|assess|check|look at|go through|report on|run)( "
    rf"{_THE_SCAN})?( (for me|pls|please|plz|now|then|thanks|quickly))*\W*$|"
    # "16-year-old with tingling in her legs. Can you read her MRI?": a history, then the request
    r"[.!?]\s+(ok |so |now )?(please |pls )?(can|could|would) (you|u) (please |pls )?(analy[sz]e|"
    rf"read|interpret|review|assess|check|look at|go through|report on) {_THE_SCAN}( (for me|pls|"
    r"please|plz|now|then|thanks|quickly))*\W*$|"
    # "what have we got", "what are we looking at"
    r"^\W*(so |ok |and )?what (have we got|do we have|are we looking at|have you got|did you find)"
    r"( here| then)?\W*$|"
    # "can you look at this, my patient is short of breath": the request, then a history
    r"^\W*(can|could|would) (you|u) (please |pls )?(look at|check|read|analy[sz]e|review) (this|it)"
    r"\s*[,.;:!-]"
)
# "does this cover the whole brain or just a slab?": the volume's extent (the acquisition)
COVERAGE = re.compile(
    r"\b(does|do|did) (this|it|the (scan|volume|file|study|series|acquisition)) (\w+ )?(cover|"
    r"include|span|contain|image)s? (the )?(whole|entire|full|complete|all( of)?( the)?) (brain|"
    r"head)\b|\b(just|only|merely) a (thin )?slab\b|\bwhole[- ](brain|head) coverage\b|"
    r"\bhow much of the (brain|head) (does|do|is) (it|this|the (scan|volume)) (cover|include|"
    r"cover\w*|imag\w*)"
)
# "how many slices are there in total", "how many slices in the volume": the acquisition, not
# how many slices a finding spans
_SLICES_IN_THE_SCAN = re.compile(
    r"\bhow many (axial |native |image )?(slices|sections|images|levels) (are there|(does|do|did) "
    r"(it|this|(the|this) (volume|scan|study|series|stack|file)) (have|contain|consist of)|(are )?"
    r"(there )?in (total|all|(the|this) (whole )?(volume|scan|study|series|stack|file)))\b|"
    r"\b(total|overall) (number of )?(slices|sections)\b|^\W*(the )?slice count\W*$|"
    r"\bnumber of (slices|sections) (in|of) "
    r"(the|this) (volume|scan|study|series|stack|file)\b"
)
# "What is the patient's name?", "DOB?", "hospital number?": identifiers, never shown
# "Does this DICOM carry patient identifiers?", "is it anonymised?": identifiers in the file
IDENTIFIERS_IN_FILE = (
    r"\b(carr(y|ies)|contains?|includes?|has|have|holds?|keeps?|stores?|still ha\w*)\b.{0,30}\b"
    r"(pt|patient)'?s? (identifiers?|ids?|names?|details|data|info\w*|phi)\b|\b(identifiers?|phi|"
    r"patient (names?|details|data)) (in|inside|within) (the |this |its )?(file|header|dicom|image|"
    r"tags?)\b|\b(is|are) (it|this|the (file|dicom|scan|image|header)) (\w+ )?(anonymi[sz]ed|"
    r"de-?identified|pseudonymi[sz]ed)\b|"
    # "Were any patient identifiers retained from the DICOM header?"
    r"\b(pt |patient )?identifiers?\b.{0,30}\b(retained|kept|stored|removed|stripped|left|"
    r"remain\w*|deleted|logged)\b|\b(retain|keep|store|remov|strip|log)\w* (\w+ ){0,2}(pt |patient )?"
    r"identifiers?\b"
)
PATIENT_IDENTITY = re.compile(
    rf"{IDENTIFIERS_IN_FILE}|"
    r"^\W*(the |this )?pts?'?s? (age|sex|gender|name|dob)\s*[?.!]*$|"
    r"\b(patient'?s? (name|surname|identity|address|birth ?date|date of birth|dob|id|mrn|"
    r"number|hospital number|nhs number)|(name|identity|dob|date of birth|mrn|age|sex|gender) of "
    r"(the|this) patient|(what|which) is (the|this) patient'?s? (age|sex|gender)|patient'?s? "
    r"(age|sex|gender)\s*[?.!]*$|who is (the|this) patient|whose (scan|mri|brain) is "
    r"(this|it)|how old is (the|this) (patient|person|subject)|(which|what) (hospital|"
    r"institution|centre|center|site|clinic)\b.{0,30}\b(scan\w*|acquir\w*|done|taken|performed|"
    r"from)|(patient|personal) (information|details|data|identifiers?) (in|on) (this|the) "
    r"(image|scan|file)|"
    # "When was this scan taken and at which hospital?", "What is the date of the scan?"
    r"(date|day|time) of (the |this )?(scan|study|exam|examination|mri|acquisition)|"
    # "is this scan from today or the admission one?"
    r"(scan|study|mri|one|image) (from|of|taken|done) (today|yesterday|this morning|last night|"
    r"admission|on admission|at admission)|(today'?s|yesterday'?s|the admission) (scan|study|mri|"
    r"one|image)|"
    r"(scan|study|exam|acquisition) date|when was (this|it|the (scan|study|mri|image|exam)) "
    r"(\w+ )?(taken|done|acquired|performed|scanned|obtained)|how old is (this|the) (scan|study)|"
    r"at which (hospital|institution|centre|center|site)|where was (this|it|the (scan|study|mri)) "
    r"(\w+ )?(taken|done|acquired|performed|scanned))\b"
)


# Questions about the processing, the detector's domain and its sensitivity, each read before
# the words of a finding they contain can make them look like a presence question (their cues
# are ones the learned reader keeps): "Is the registration to MNI any good?", "What space is this
# volume in?", "Has the skull been removed?", "Is the detector trained on scans like this one?",
# "What should I upload instead?", "Would you pick up a 3 mm lesion?", "total lesion load in ml?",
# "Does the lesion involve the caudate?"
_REGISTRATION = re.compile(
    r"\b(registration|co-?registered|normali[sz]ation to mni|(what|which) (coordinate |reference )?"
    r"space|is (it|this|the (scan|volume|image)) (in )?(mni|native|template|standard) space)\b|"
    # "is the scan registered OK to MNI, did the alignment work?"
    r"\bregistered (\w+ )?to (mni|the template)\b|\b(alignment|registration) (work|fail|succeed)\w*\b"
)
_SKULL_REMOVED = re.compile(
    r"\bskull (been |was |is |got )?(removed|stripped|taken off)\b|\b(removed|stripped|taken) "
    r"(off )?the skull\b|\b(skull|scalp) (on|still on|present|intact)\b(?! (or|and))|"
    r"\b(is|was|are|were) (it|this|that|the (scan|volume|image|brain|mri|study|data)) (\w+ )?"
    r"(skull[- ]?stripped|brain[- ]?extracted)\b"
)
TRAINING_DOMAIN = re.compile(
    r"\b(validated|tested|evaluated|benchmarked) (on|with|against|for|in) (\w+ ){0,2}(real |"
    r"actual )?(ms|multiple sclerosis|patients?|lesions?|tumou?rs?|strokes?|pathology|cases|"
    r"plaques)\b|"
    r"\b(trained|train|built|validated|made|developed|calibrated) (on|for|with) (\w+ ){0,3}"
    r"(scans?|images?|data|cases|brains?|mris?|ones?|kind)( \w+){0,2} (like|such as|similar to) "
    r"(this|it|mine|these|that)\b"
)
TRUST_AN_EXPORT = (
    r"\b(trust\w*|reliab\w*|accura\w*|as good|as well|work\w* (well|as well)|good enough|valid)\b"
    r".{0,40}\b(png|jpe?g|tiff?|bmp|exports?|exported|screenshots?|screen ?grabs?|2d slices?)\b|"
    r"\b(png|jpe?g|tiff?|exports?|screenshots?)\b.{0,40}\b(trust\w*|reliab\w*|accura\w*|as good|"
    r"good enough|valid)\b"
)
WHAT_TO_UPLOAD = re.compile(
    r"\b(what|which) (\w+ ){0,2}(should|can|could|do|must) (i|we) (upload|send|provide|load)\b|"
    r"\b(what|which) (scan|image|file|series|sequence) (should|can|could|do|must) (i|we) use\b|"
    r"\bwhat (can|do|does|will) (you|it|the (tool|detector|model)) (analy[sz]e|accept|read|handle)\b|"
    # "I took a photo of the hospital screen, is that good enough?"
    r"\b(photo\w*|picture|pic|snap)\b.{0,40}\b(screen|monitor|pacs|computer|viewer)\b|"
    # "is it trustable on a png export from PACS?": how well it works on an exported slice
    rf"{TRUST_AN_EXPORT}|"
    # "if I upload his head MRI instead can you do that"
    r"\bif (i|we) (upload|send|load|give you|provide|use) (\w+ ){0,3}(head|brain) (mri|mr|scan|"
    r"ct|images?|study|series|t1)\b|"
    r"\bwhat (do|does|would) (it|you|the (tool|detector|model)) (accept|need|take|want|expect)\b|\bwhat (kinds?|types?|sorts?) of (scans?|images?|files?|data|inputs?|formats?) (do|does|can|will|"
    r"would) (it|you|u|the \w+) (actually |really )?(accept|need|take|read|analy[sz]e|want|"
    r"work with)\b"
)
SENSITIVITY = re.compile(
    # "What is the false negative rate for a lesion like that?", "sensitivity for lesions under
    # 5 mm?"
    r"\bfalse[- ]negative (rate|fraction|proportion)s?\b|\bsensitivity (for|to|of|on|in) (\w+ ){0,3}"
    r"(small|tiny|subtle|little|\d+(\.\d+)? ?mm|lesions? (under|below|smaller than|less than))|"
    r"\b(would|could|can|does|do|will|did) (you|it|the (detector|model|tool|ai|system)) "
    r"(\w+ )?(pick up|picked up|detect|catch|see|find|spot|miss|missed)\b.{0,30}"
    r"\b(\d+(\.\d+)? ?mm|small|tiny|subtle|little|early)\b|"
    # "what size lesion could you have missed?"
    r"\b(what|which|how) (size|small|big|large)\b.{0,30}\b(missed|overlooked|not (be )?(detected|"
    r"flagged|picked up))\b|"
    # "could a small lesion be missed here?"
    r"\b(could|can|might|would|may) (a |any |the )?(\w+ )?(small|tiny|subtle|little|early|\d+(\.\d+)? ?mm)"
    r" (\w+ )?(lesions?|abnormalit\w*|findings?|plaques?|foci|spots?|ones?|mets|metastas[ie]s) "
    r"(\w+ )?(be )?(missed|overlooked|undetected|hiding|hidden|lurking)\b|"
    # "Might a subtle abnormality slip past?", "Could something have slipped through?"
    r"\b(could|can|might|may|would|will|did) (\w+ ){0,4}((slip|slipped) (past|through|by)|(get|got|"
    r"gone|go) (past|by))( (it|the (ai|detector|model|tool|algorithm|software|map|heatmap)|you|"
    r"undetected|unnoticed))?\s*[?.!]*(\s|$)|"
    # "something there that the AI did not pick up", "an abnormality the heatmap doesn't show"
    r"\b(something|anything|an? (\w+ )?(abnormality|lesion|finding))( be)?( there)? (that |which )?"
    r"(the )?(ai|detector|model|tool|heatmap|map|algorithm|it|you|software) (did not|does not|"
    r"could not|cannot|would not|might not|may not|has not|have not) (\w+ )?(pick up|show|see|"
    r"detect|catch|find|flag|spot|highlight)\b"
)
QUALITY = re.compile(
    r"\b(good enough|adequate|sufficient|acceptable|diagnostic|poor|bad) (image |scan )?quality\b|"
    r"\bimage quality\b|\b(quality|good) enough (for you )?to (analy[sz]e|read|use|assess)\b|"
    r"\b(scan|image|study|mri) (of )?(good|decent|ok|okay|acceptable|poor|bad|diagnostic) quality\b|"
    r"\b(good|decent|poor|bad|diagnostic) quality (scan|image|study|mri)\b|"
    # "is the noise level acceptable", "too noisy?", "SNR ok?"
    r"\b(noise|snr|signal[- ]to[- ]noise( ratio)?)( levels?)? (is |are |looks? |seems? )?"
    r"(acceptable|ok|okay|fine|adequate|good enough|too high|high|a problem|an issue)\b|"
    r"\b(how|too) noisy\b"
)
# a radiographer's question about the acquisition's artefacts or a repeat ("Any motion artefact on
# it?", "Did the patient move?", "Any wrap-around?", "Is the field of view cutting off the top?",
# "Do we need to repeat it?", "Is the head tilted?"), not about a finding ("Is F1 a motion
# artefact?" asks whether a finding is real)
IMAGE_ARTEFACT = re.compile(
    r"\b(motion|movement|wrap[- ]?around|aliasing|gibbs|truncation|zipper|ghosting|pulsation|"
    r"bias[- ]field|inhomogeneit\w*)( artefacts?| artifacts?)?\b|"
    r"\bsusceptibility (artefacts?|artifacts?)\b|\bringing (artefacts?|artifacts?)\b|"
    r"\b(any|is there|see|seeing) (\w+ )?ringing\b(?! (neuro\w*|the|him|her|them|someone|somebody|"
    r"a|an|me|us|round|around))|"
    r"\b(did|has|was|were) (the )?(patient|pt|he|she|they|child|kid|baby|subject) (\w+ )?(move|moving|"
    r"moved|still)\b|"
    r"\b(field of view|fov)\b.{0,30}\b(cut\w*|clip\w*|crop\w*|miss\w*|includ\w*|cover\w*)\b|"
    r"\bcut(ting|s)? off (the )?(top|vertex|bottom|cerebellum|posterior fossa|skull base)\b|"
    # a repeat for the image's sake ("is the quality good enough or should I bring the patient back
    # for a repeat?"), not a follow-up scan ("repeat MRI in 3 months?": next steps)
    r"\b(repeat|rescan|re-scan|redo|reacquire|re-acquire)\b.{0,60}\b(quality|motion|artefact\w*|"
    r"artifact\w*|blur\w*|moved|movement|good enough|ghosting)\b|\b(quality|motion|artefact\w*|"
    r"artifact\w*|blur\w*|good enough)\b.{0,60}\b(repeat|rescan|re-scan|redo|reacquire|bring (the "
    r"patient|him|her|them) back)\b|"
    r"\b(head|patient) (is |was )?(tilted|rotated|off[- ]?cent(re|er))\b|\breposition\w*\b|"
    r"\btilt(ed)?\b"
)
_COULD_BE_AN_ARTEFACT = re.compile(
    r"^(so |and |but )?(could|might|may|can) (this|that|the|it|these|those) ([\w-]+ ){0,4}(just |"
    r"simply |only )?be (an? |just an? )?([\w-]+ ){0,3}(artefacts?|artifacts?)\b(?!.*\b(or|rather "
    r"than|instead of|versus|vs)\b)"
)
_NAMES_A_REGION = re.compile(
    r"\b[fwv]\d+\b|\b(spot|area|region|blob|lesion|finding|highlight|hot ?spot|red|ring|bright|"
    r"dark|hyperintens\w*|hypointens\w*|heatmap|map|overlay|abnormality)\b"
)
# "What about the frontal lobes specifically?" (a follow-up): whether anything is there
_WHAT_ABOUT_A_PLACE = re.compile(
    r"^(and |so |but |ok,? |okay,? )?(what|how) about (the |his |her |their |its )?(left |right |both )?"
    r"(frontal|temporal|parietal|occipital|cerebellar|deep|medial|mesial)?( lobes?| poles?| regions?|"
    r"cerebellum|brain ?stem|basal ganglia|thalam\w*|hippocamp\w*|white matter|cortex|insula)"
    r"( specifically| in particular| then| too| as well)?\W*($|[.?!]|,? (i am|i'm|im|we are|we're) )"
)
_LESION_LOAD = re.compile(r"\b(lesion|total|white matter|disease|t2) (load|burden)\b")
_INVOLVES_A_STRUCTURE = re.compile(
    r"\b(involv\w*|extend\w* (in)?to|abut\w*|reach\w*|cross\w*|encroach\w* on|spare\w*) "
    r"(the )?(\w+ ){0,2}(caudate|putamen|globus pallidus|thalam\w*|internal capsule|corpus "
    r"callosum|cortex|ventric\w*|basal ganglia|white matter|gr[ae]y matter|insula|midline|"
    r"lobes?)\b|\b(in|within) (the )?(gr[ae]y|white)( matter)? or (the )?(gr[ae]y|white) matter\b|"
    # "Is the lesion in the basal ganglia or thalamus?": where it lies, asked of a structure
    r"^(is|are) ((the|this|that) (\w+ )?(lesion|finding|region|abnormality|spot|area|one)s?|it) "
    r"(located |situated |sitting )?(in|within) (the )?(\w+ ){0,2}(caudate|putamen|globus pallidus|"
    r"thalam\w*|internal capsule|corpus callosum|basal ganglia|insula)\b"
)


# a bare noun phrase naming a kind of lesion in a place: "frontal lobe tumour?", "left
# thalamic bleed?"
_PLACED_KIND = re.compile(
    r"(?!(where|what|which|how|why|when|who|is|are|was|were|does|do|did|can|could|would|should|"
    r"will|any|anything|show|tell|describe|give|find|locate|point|the|this|that|its?|size|"
    r"signal)\b)((left|right|bilateral) )?(\w+ ){1,3}(tumou?rs?|mass(es)?|bleeds?|ha?emorrhages?|infarcts?|"
    r"infarction|lesions?|cysts?|abscess(es)?|mets|metastas[ie]s|plaques?|strokes?|glioma)\s*\?*"
)
# a bare kind of lesion on a side: "lacunar infarct in the R?" (whether it is there)
_KIND_ON_A_SIDE = re.compile(
    r"(?!(where|what|which|how|is|are|was|were|does|do|did|can|could|would|should|will|the|this|"
    r"that|its?|any|anything)\b)((\w+ ){0,3}(tumou?rs?|mass(es)?|bleeds?|ha?emorrhages?|infarcts?|infarction|lesions?|cysts?|"
    r"abscess(es)?|metastas[ie]s|plaques?|strokes?|glioma)) (in|on) the (left|right)"
    r"( hemisphere| side| brain)?\s*\?*"
)
# the age of a lesion: "acute or chronic?", "can you say if it's acute?" (a cause question)
# "how old is this lesion", "how long has it been there?", "when did this happen?"
AGE_OF_A_LESION = (
    r"\bhow (old|long[- ]standing|recent|new) (is|are) (this|that|it|the|these|those)\b( (lesion|"
    r"finding|abnormality|region|spot|area|bleed|infarct|stroke|thing|one)s?)?\W*$|"
    r"\bhow long (has|have) (it|this|that|they|these|the \w+) been (there|present)\b|"
    r"\bwhen did (this|that|it|the \w+) (happen|occur|start|develop)\b|"
    r"\b(age|timing|chronicity) of (the|this|that) (lesion|finding|abnormality|bleed|infarct|stroke|"
    r"region)\b"
)
_AGE_ASK = re.compile(
    r"^\W*(acute|chronic|subacute|old|new|recent|fresh) (or|vs\.?|versus) (acute|chronic|subacute|"
    r"old|new|recent|fresh)\W*$|\b(it'?s|it is|is it|is this|is that|this is|that is|is the "
    r"(lesion|finding|infarct|bleed|abnormality|region)) (\w+ )?(acute|chronic|subacute)\b|"
    + AGE_OF_A_LESION
)


# a finding's measurements in three directions (not the image's matrix)
_THREE_PLANES = re.compile(
    r"\b(dimensions?|measurements?|size|extent|diameters?) (in|across|along) (the )?(3|three|all "
    r"(3|three)|orthogonal) (planes|axes|directions|dimensions)\b|\b(ap|cc|tr|lr|si) ?(x|×) ?(ap|cc|"
    r"tr|lr|si)\b|\bthree orthogonal (dimensions|measurements|diameters)\b"
)
# what a bright or dark region could be made of, asked as a list: "fat? blood? melanin?"
_SUBSTANCE = (
    r"(fat|blood|melanin|calcium|calcification|protein\w*|gad\w*|gadolinium|contrast|"
    r"methaemoglobin|methemoglobin|ha?emorrhage|lipid|manganese|copper|mineral\w*|"
    r"hemosiderin|haemosiderin|cholesterol|mucin|air|gas)"
)
SUBSTANCES_ASKED = re.compile(rf"\b{_SUBSTANCE}\s*(\?|/|,|or)\s*{_SUBSTANCE}\b")
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")
_PLACE_OR_SIDE = re.compile(r"\b(where|which side|left|right|l|r|lobe|frontal|parietal|temporal|"
                            r"occipital|hemisphere)\b")  # fmt: skip


def parse(question: str) -> Ask | None:
    """The reading of `question` (see the module docstring), or None. A history before the
    question ("Ring lesion R side. Size in mm?", "FU after GTR of L temporal GBM. Recurrence?")
    does not make it a side or location question: when the whole reads as one and the one
    question sentence names no place or side, that sentence's own reading is taken."""
    whole = _parse(question)
    if whole is None or whole.intent not in ("side", "location"):
        return whole
    sentences = [s.strip() for s in _SENTENCE.findall(normalise(question)) if s.strip()]
    asked = [s for s in sentences if s.endswith("?")]
    if len(sentences) < 2 or len(asked) != 1 or _PLACE_OR_SIDE.search(asked[0]):
        return whole
    own = _parse(asked[0])
    return whole if own is None or own.intent in ("side", "location") else own


def _parse(question: str) -> Ask | None:
    """The reading of `question` as a whole (see the module docstring), or None."""
    raw = _USERS_MISS.sub(" ", without_frame(without_hedge(normalise(question)))[0])
    if not re.search(r"[a-z0-9]", raw):
        return None
    if re.fullmatch(r"\W*(any )?(issues?|problems?|concerns?|worries|trouble)\W*", raw):
        return Ask("presence", "image", "presence")  # "issue?", "any problems?"
    about = _about(raw)
    # 1. not about this scan; text about this scan for a letter is a report ("a conclusion I can
    # put in the clinic letter")
    if _FOR_A_LETTER.search(raw) and REPORT.search(re.sub(r"\b\w+ (letter|note)\b", " ", raw)):
        return Ask("report", _about(raw), "report for a letter")
    if PATIENT_IDENTITY.search(raw):
        return Ask("out_of_scope", "none", "patient identity")
    quoted = re.search("['\"\u201c]([^'\"\u201d]{3,160})['\"\u201d]", question)
    if re.search(DOCUMENTING, raw) and quoted:
        # "Can I quote 'left-sided lesion, confidence 0.9' in a report?": the claim's side, place
        # or size as such (`afterwards.written_into_the_notes`), else the reading, then whose the
        # record is
        claim = _parse(quoted.group(1) + "?")
        if claim is not None and claim.intent in ("side", "location", "size"):
            return claim
        return Ask("presence", _about(raw), "documenting")
    if re.search(DOCUMENTING, raw) and re.search(r"\b(this|it|any of (this|it)|that|these)\b", raw):
        # "Should I put any of this in my clinic letter to the GP?": the reading, then whose the
        # letter is (not a request for a letter, nor another topic)
        return Ask("presence", _about(raw), "documenting")
    if _SELF_AS_PATIENT.search(normalise(question)):  # "I'm the patient - is my brain ok?"
        return Ask("out_of_scope", "none", "personal medical advice")
    if (
        IMAGE_ARTEFACT.search(raw)
        and not _NAMES_A_REGION.search(raw)
        # "anything abnormal on her scan, and did she move during it?": the reading comes first
        and not re.search(
            r"\b(anything (wrong|abnormal|odd)|tumou?rs?|bleed\w*|strokes?|masse?s?|"
            r"normal)\b",
            raw,
        )
    ):
        # "Any motion artefact on it?", "Do we need to repeat this scan?": the acquisition
        return Ask("modality", "image", "image quality")
    if CAPABILITIES.search(raw):
        return Ask("out_of_scope", "none", "capabilities")
    if ANALYSE_THIS.search(raw):
        return Ask("presence", "image", "analyse this")
    if _TREATABLE.search(raw):
        return Ask("next_steps", _about(raw), "referral")  # "can it be treated?"
    if _WHAT_IT_MEANS.search(raw):
        return Ask("explanation", _about(raw), "could it be")  # "what does the dark area mean?"
    if _SCANNER_ARTEFACT.search(raw) and not re.search(
        r"\b(chance|likely|likelihood|probab\w*|confiden\w*|sure|certain)\b", raw
    ):
        return Ask("presence", _about(raw), "scanner artefact")
    if _THREE_PLANES.search(raw):
        return Ask("size", about, "size")  # "Dimensions in 3 planes please."
    if SUBSTANCES_ASKED.search(raw):
        return Ask("explanation", about, "cause")  # "hyperintense T1 L - fat? blood? melanin?"
    if _VOLUME_IN_UNITS.search(raw) and not re.search(r"\bhow many\b", raw):
        return Ask("size", _about(raw), "volume in units")
    if _CAUSE_OF_A_SYMPTOM.search(raw):
        return Ask("explanation", _about(raw), "could it be")
    if ANALYSED_SLICES.search(raw):
        return Ask("modality", "image", "analysed slices")
    if _SLICES_IN_THE_SCAN.search(raw) or COVERAGE.search(raw):
        return Ask("modality", "image", "slices in the scan")
    if _APPLICABILITY_ASK.search(raw):
        return Ask("modality", "image", "applicability")
    if _TOP_CASE.search(raw):
        return Ask("similar_cases", "cases", "similar cases")
    if _WHAT_IS_GOING_ON.search(raw):
        return Ask("presence", about, "what is going on")
    if _SHOWN_SLICE_NUMBER.search(raw):
        return Ask("modality", "image", "displayed slice")
    if WHAT_TO_UPLOAD.search(raw):
        return Ask("modality", "image", "what to upload")
    if TRAINING_DOMAIN.search(raw):
        return Ask("modality", "image", "training domain")
    if _REGISTRATION.search(raw) or _SKULL_REMOVED.search(raw) or QUALITY.search(raw):
        return Ask("modality", "image", "processing")
    if SENSITIVITY.search(raw):
        return Ask("confidence", about, "sensitivity")
    if _AGE_ASK.search(raw):
        return Ask("explanation", about, "age of a lesion")
    if _WHAT_ABOUT_A_PLACE.search(raw):
        return Ask("presence", about, "presence in a named place")
    if re.search(r"^(and|what about|how about) (the |its )?(signal|intensity|brightness)\W*$", raw):
        return Ask("intensity", about, "intensity")  # "and the signal?": a follow-up of its own
    if re.search(
        r"^(so |and )?(are|were|is|was|any) (there )?(any )?(weak|weaker|borderline|sub-?threshold) "
        r"(regions?|findings?|areas?|spots?)\b",
        raw,
    ):
        return Ask("presence", about, "weak regions")  # "Are any weak regions reported, ...?"
    if _LESION_LOAD.search(raw):
        # "Lesion burden - how many lesions?": a count (of a scan analysed anyway, "I can't tell")
        counted = re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", raw)
        return Ask("count" if counted else "size", about, "lesion load")
    if _INVOLVES_A_STRUCTURE.search(raw) and yes_no_question(raw) and not EXISTENTIAL.search(raw):
        return Ask("location", about, "structure involvement")
    if _STAKE.search(raw):  # "How much weight should I give it?" (not a drug to give)
        return Ask("confidence", about, "confidence")
    oos = OOS.search(raw)
    if (
        oos
        and re.fullmatch(BODY_PART, oos.group(0))
        and _BRAIN_LESION_ASKED.search(raw[oos.end() :])
    ):
        oos = None  # "62M, known lung adenoCA ... ring-like lesion here - mets or GBM?"
    if (
        oos
        and re.fullmatch(BODY_PART, oos.group(0))
        and re.search(r"\b(artefacts?|artifacts?)\b.{0,40}\b(from|by|due to|of)\b", raw)
    ):
        oos = None  # "a susceptibility artefact from a dental brace?": about this scan
    if oos:
        # "Is the liver normal on this CT?" (a cue the learned reader keeps); not "lung primary,
        # any intracranial deposits?", which asks about the brain
        if re.search(BODY_PART, raw) and not re.search(
            r"\b(brain|intracranial|cerebr\w*|metasta\w*|mets|secondar\w*|deposits?|spread|"
            r"primary|ca|cancer|carcinoma|tumou?rs?|malignan\w*)\b",
            raw,
        ):
            return Ask("out_of_scope", "none", "another body part")
        return Ask("out_of_scope", "none", "out of scope")
    if (
        GENERAL_HEALTH.search(raw)
        and (not ANCHOR.search(raw) or re.search(r"\b(in general|generally|in principle)\b", raw))
        and not _kind_asked_after_a_history(raw)
    ):
        return Ask("out_of_scope", "none", "general health")
    if REPORT_FIRST.search(raw) and (
        not (MAP.search(raw) or PSEUDO.search(raw) or CASES.search(raw))
        or re.search(r"\bas an? (\w+ )?(report|summary)\b", raw)  # "... as a structured report"
    ):
        return Ask("report", _about(raw), "report request")
    if general_question(raw):
        return Ask("out_of_scope", "none", "general medical question")
    if SLICES_OF_A_FINDING.search(raw):  # its own cue: the learned reader does not overrule it
        return Ask("location", about, "slices of a finding")
    # bare as asked ("Which slice?"), not once "is this" is taken out ("Which slice is this?")
    bare = WHICH_SLICE_BARE.search(raw) and WHICH_SLICE_BARE.search(normalise(question))
    if (WHICH_SLICE.search(raw) and _OF_A_FINDING.search(raw)) or bare:
        return Ask("location", about, "which slice")
    # 2. what to do next (before the modality words: "Should I order DWI?"), unless it asks
    # how this scan was acquired ("Was this done with contrast?")
    if CONVENTION.search(raw):
        return Ask("modality", "image", "display convention")
    if PAST_ACQUISITION.search(raw):
        return Ask("modality", "image", "acquisition")
    if _WOULD_A_TEST_HELP.search(raw) or _MORE_CERTAINTY.search(raw):
        return Ask("next_steps", about, "whether a test would help")
    if NEXT.search(raw):
        cue = "referral" if re.search(_REFERRAL, raw) else "next steps"
        return Ask("next_steps", about, cue)
    # 3. the acquisition itself
    if modality_only(raw) or (has_modality_words(raw) and _HOW_TELL.search(raw)):
        # "How can I tell this is T1-weighted?"
        return Ask("modality", "image", "modality words only")
    q = strip_modality(raw) if has_modality_words(raw) else raw
    q = ON_A_SEQUENCE.sub(r"\1 \2 scan", q)  # "high signal on this sequence": where, not what
    if re.search(r"\bwhich side\b", q) and _NAMES_A_REGION.search(q):
        return Ask("side", about, "side")  # "Going by the header, which side is the dark area on?"
    if re.search(r"\b(how|are you|you) (sure|confident|certain)\b.{0,30}\b(the |its )?side\b", q):
        return Ask("side", about, "side")  # "how sure are you about the side, given orientation?"
    if _COULD_BE_AN_ARTEFACT.search(q) and _NAMES_A_REGION.search(q):
        # "Could that bright region be a susceptibility artefact from a dental brace?"
        return Ask("presence", about, "whether a finding is real")
    if ACQUISITION.search(q) and not CASES.search(q):
        return Ask("modality", "image", "acquisition")
    # "Is F1 a real lesion?", "F2 just artefact?": whether the finding is real, asked yes/no
    # (answered with its calibrated confidence); "could F1 be a false positive?" is confidence
    if (
        _FINDING_REALITY.search(q)
        and _REALITY_REFERENT.search(q)
        and not _REALITY_DOUBT.search(q)
        and yes_no_question(q)
    ):
        return Ask("presence", about, "whether a finding is real")
    # "Is the heatmap blank?", "Did it light up anywhere?": whether the detector found anything
    if (
        (re.search(_OUTPUT_QUIET, q) or re.search(_OUTPUT_ACTIVE, q))
        and yes_no_question(q)
        and not _OUTPUT_MEANING.search(q)
        and not _OPEN_ANYWHERE.search(q)
        and not COUNT.search(q)  # "Does anything else light up apart from F1?"
    ):
        return Ask("presence", about, "whether the detector found anything")
    # "Could this be used as a normal reference slice?", "Is this a control scan?", "Does the
    # brain look like it should?": whether it is normal, not the cases or a cause
    if _CALLED_NORMAL_AS.search(q) and yes_no_question(q):
        return Ask("presence", about, "called normal")
    # 4. what it is about decides the heatmap / reconstruction / cases questions
    if PSEUDO.search(q) and _VIA_THE_RECONSTRUCTION.search(q) and yes_no_question(q):
        # "Does the difference between the scan and its healthy reconstruction reveal a lesion?",
        # "Is the scan identical to its reconstruction, so normal?": whether something is there
        return Ask("presence", about, "presence, through the pseudo-healthy comparison")
    if _DIAGNOSIS_CLASS.search(q):  # "Which pathology class does it most resemble?"
        return Ask("explanation", about, "cause")
    if CASES.search(q):
        return Ask("similar_cases", "cases", "cases")
    map_first = MAP.search(q)
    if PSEUDO.search(q) and not (
        map_first and map_first.start() < PSEUDO.search(q).start() and _MAP_MEANING.search(q)
    ):  # "Is the heatmap the residual from the pseudo-healthy image?" is about the map
        return Ask("pseudo_healthy", "pseudo_healthy", "pseudo-healthy")
    if COUNT.search(q) and MAP.search(q) and not _MAP_MEANING.search(q):
        return Ask("count", about, "count of highlighted regions")
    if SIZE.search(q) and MAP.search(q) and not _MAP_MEANING.search(q) and not CASES.search(q):
        return Ask("size", about, "size of the highlighted region")
    # "Where does the highlighted finding sit?": about the finding, not the map
    on_map = bool(MAP.search(q)) and not (
        _OPEN_START.search(q)
        and not _MAP_MEANING.search(q)
        and not MAP.search(_HIGHLIGHTED_NOUN.sub(r"\2", q))
    )
    pointed = _AT_THE_HIGHLIGHT.search(q) or (
        _ASK_WHETHER.search(q)
        and re.search(
            r"\b(real|true|genuine|actual\w*|lesions?|abnormal\w*|patholog\w*|artefact|artifact|"
            r"noise)\b",
            q,
        )
    )
    if (
        on_map
        and pointed
        and not _MAP_MEANING.search(q)
        and not _COMPARATIVE_SIGNAL.search(q)
        and not _side(q)
    ):
        # "Is the red blob an actual lesion?", "Under the overlay, is the brain normal?",
        # "Did the AI highlight anything?": whether something is there, pointed at on the map
        return Ask("presence", about, "presence at the highlighted region")
    if on_map and _side(q) and not _MAP_MEANING.search(q):
        return Ask("side", about, "side of the highlighted region")
    if on_map and _COMPARATIVE_SIGNAL.search(q) and not _MAP_MEANING.search(q):
        return Ask("intensity", about, "intensity at the highlighted region")
    if on_map:
        return Ask("heatmap", "map", "map")
    # 5.-13. what is asked about the image or one finding
    if _REPORT_AS.search(q) and (PRESENCE.search(q) or EXISTENTIAL.search(q)):
        # "Would you report this as abnormal?", "Can I put 'no infarcts' in the report?"
        return Ask("presence", about, "presence, as it would be reported")
    if REPORT.search(q) and not NOTHING_TO_REPORT.search(q):
        return Ask("report", about, "report")
    if CHANCE_OF_DIAGNOSIS.search(q) or _WHICH_FITS.search(q):
        return Ask("explanation", about, "cause")
    if CONFIDENCE.search(q):
        if re.search(r"^(so |and |but )?(are|r) (you|u) (\w+ )?(sure|certain|confident)\b", q):
            return Ask("confidence", about, "are you sure")  # a cue the learned reader keeps
        return Ask("confidence", about, "confidence")
    # a described finding asked about its signal or size: the predicate decides, not the place
    # or side words that describe it (cues the learned reader keeps)
    if _CONSISTENT_WITH_DIAGNOSIS.search(q):
        # "Is that consistent with chronic infarct?": what it is (a cue the learned reader keeps)
        return Ask("explanation", about, "could it be")
    if _LAST_CLAUSE_DIAGNOSIS.search(q) and not _COULD_BE_NOTHING.search(q):
        return Ask("explanation", about, "could it be")
    if _DESCRIBED_SIGNAL.search(q):
        return Ask("intensity", about, "signal of a described finding")
    if _DESCRIBED_SIZE.search(q):
        return Ask("size", about, "size of a described finding")
    if _DESCRIBED_DIAGNOSIS.search(q) and not _COULD_BE_NOTHING.search(q):
        return Ask("explanation", about, "could it be")  # a cue the learned reader keeps
    if _DESCRIBED_THEN_KIND.search(q) or _LAST_CLAUSE_KIND.search(q):
        # "dark spot on the R, infarct?": whether it is that kind (not its side)
        return Ask("presence", about, "kind of a described finding")
    if _WHAT_IS_THE_THING.search(q) and not re.search(
        r"\b(size|area|volume|diameter|dimensions?|side|location|position|intensity|signal|"
        r"colou?r|confidence|score|number|count|extent|width|length|name|id|label)s? of\b|"
        r"\b(area|size)s? (in|of)\b|mm²|mm2|cm²|cm2|\bpixels?\b|'s area\b|\bwhat is the area\b",
        q,
    ):
        # "What is the bright patch on the left?": what it is
        return Ask("explanation", about, "could it be")
    if SIGN.search(q):
        return Ask("presence", about, "sign")
    if _EXCLUDE.search(q) and not re.search(r"\bwhat\b", q):
        # "Can you exclude cerebritis or abscess?": whether something is there
        return Ask("presence", about, "exclude")
    if _WHAT_IS_IT.search(q):
        return Ask("explanation", about, "cause")
    if CAUSE_STRONG.search(q):
        if _unrelated(q):  # "Explain how blockchain works."
            return Ask("out_of_scope", "none", "nothing about this scan")
        return Ask("explanation", about, "cause")
    if COUNT.search(q):
        return Ask("count", about, "count")
    existential = bool(EXISTENTIAL.search(q))
    if _HOW_MUCH_OF.search(q):
        return Ask("size", about, "size")
    in_a_structure = (
        (existential or re.search(r"^(is|are) not there\b", q))
        and yes_no_question(q)
        and SIDE_STRUCTURE.search(q)
    )  # "Isn't there some blood in the right hemisphere?": whether it is there
    if _KIND_ON_A_SIDE.fullmatch(q.strip()):
        return Ask("presence", about, "presence of a kind on a side")  # "lacunar infarct in the R?"
    if (
        _side(q)
        and not (WHICH_PART.search(q) and not re.search(r"\b(left|right|side)\b", q))
        and not in_a_structure
        and not (_kind_asked_after_a_history(q) and not _side(_last_sentence(q)))
    ):
        return Ask("side", about, "side")
    tissue_normal = bool(
        (
            re.search(rf"\b({NORMAL_WORD}|intact|preserved|spared)\b", q)
            or re.search(
                r"\b(matter|cortex|ganglia|thalam\w*|parenchyma|tissue) (\w+ )?abnormal", q
            )
        )
        and not re.search(r"\bwhere\b", q)
    )
    if INTENSITY.search(q):  # "Is F2 iso compared to cortex?": the reference is not a place
        q = _COMPARED_TO.sub(" ", q)
    location = LOCATION.search(_drop_anatomy(q) if existential or tissue_normal else q)
    if location and existential and yes_no_question(q) and not LOCATION_ASK.search(q):
        location = None  # "Any lesion in the front of the brain?": a place qualifies the ask
    if location and _PLACED_KIND.fullmatch(q.strip()):
        location = None  # "frontal lobe tumour?": a kind of lesion, placed; whether it is there
    if location and not re.search(r"\bwhere\b", q) and SIZE.search(q):
        return Ask("size", about, "size")
    if location:
        return Ask("location", about, "location")
    if SIZE.search(q):
        return Ask("size", about, "size")
    if (
        INTENSITY.search(q)
        and not existential
        and (DEFINITE.search(q) or INTENSITY_ASK.search(q))
        and not _CALLED_NORMAL.search(q)
    ):
        return Ask("intensity", about, "intensity")
    look_for = re.search(r"\b(look|search|screen|scan|check)(ing)?( out)? for\b", q)
    if PRESENCE.search(q) and (existential or _NEGATIVE_FOR.search(q) or look_for):
        # "Is there evidence of an acute ischaemic event?", "Negative for ischaemic change?":
        # whether something is there, whatever kind of lesion it names
        return Ask("presence", about, "presence of a kind of lesion")
    if _LABELLED_AS.search(q) or _FILED_AS.search(q):  # "Can this be called normal?": is it normal
        return Ask("presence", about, "presence")
    if CAUSE.search(q) or _copula_cause(q) or (DIAGNOSIS_CHOICE.search(q) and not existential):
        if _unrelated(q):
            return Ask("out_of_scope", "none", "nothing about this scan")
        if _COULD_BE_NOTHING.search(q):  # "Could F1 be nothing?": whether it is real
            return Ask("presence", about, "whether a finding is real")
        # "Could this be an old infarct?": what the finding is (a cue the learned reader keeps)
        return Ask("explanation", about, "could it be" if _COULD_IT_BE.search(q) else "cause")
    if PRESENCE.search(q) or INTENSITY.search(q):
        return Ask("presence", about, "presence")
    if not_about_a_scan(q):
        return Ask("out_of_scope", "none", "nothing about this scan")
    return None


def _unrelated(q: str) -> bool:
    """An explain/why request with nothing to do with a scan ("Explain how a jet engine
    works.")."""
    return (
        not_about_a_scan(q)
        and not PRESENCE.search(q)
        and not re.search(
            r"\b(differential|diagnos\w*|causes?|a?etiolog\w*|likely|possibilit\w*|options?)\b", q
        )
    )


_FINDING_REALITY = re.compile(
    # "Is F1 more than an artefact?", "anything but noise?", "not just noise?"
    r"(?<!nothing )(?<!no )\b(more than|other than|anything but|anything more than|something more "
    r"than) (just |only |"
    r"simply |merely )?(an? )?([\w-]+ )?(artefacts?|artifacts?|noise|blips?|glitch\w*)\b|"
    r"\b(likely|probably) (to be )?(just |only )?(an? )?(artefact|artifact|noise)\b|"
    # "Is the brightest colour on the map caused by image noise rather than disease?"
    r"\b(caused by|due to|explained by|because of|the result of) ([\w-]+ ){0,2}(artefacts?|"
    r"artifacts?|noise)\b|"
    r"\b(real|genuine|true|actual|legit\w*)( (lesion|abnormality|finding|pathology|thing|"
    r"positive|one))?\s*[?.!]*\s*$|\b(a |an )?(real|genuine|true|actual) (lesion|abnormal\w*|"
    r"finding|patholog\w*|thing|positive|disease|one)\b|\b(represent\w*|correspond\w*|reflect\w*) (to )?"
    r"(an? |any )?(real|genuine|true|actual)\b|\b(just|only|merely|simply|purely|actually) "
    r"(\w+ )?(an? )?(artefact|artifact|noise|normal (variant|variation|anatomy|tissue|brain|"
    r"structure))\b|\b(is|are) (an? )?(artefact|artifact|noise|normal (variant|variation|anatomy|"
    r"tissue|brain))\b|\bnothing really\b|\b(probably|just|only|is|be) nothing\b|"
    r"\bspurious\b|\b(just|only|merely|simply|purely) (an? )?false (alarm|positive)\b|"
    r"\b(nothing|something|anything) (to worry|to be worried|of concern)\b|"
    r"^(is )?(the |that |this )?(map'?s? |heatmap'?s? |overlay'?s? )?(hot ?spot|highlight|(red|"
    r"yellow|orange|colou?rful|bright|hot|warm|lit) (spot|area|blob|region|patch|bit|thing)|"
    r"(hottest|brightest|warmest|reddest) (spot|area|region|part|bit|colou?r)|blob|peak|colou?r|"
    r"spot)( (on|in) (the )?(map|heatmap|overlay|anomaly map))? (\w+ )?(artefact|artifact|"
    rf"noise|real|genuine|{_TRIVIAL})\W*$|"
    # "Is F1 a false positive?", "Is the hot spot nothing but a false alarm?" (yes/no)
    r"^(is|are|was|were) (\w+[ '-]){1,6}(an? |just an? |only an? |nothing but an? |nothing more "
    r"than an? |merely an? )false (positive|alarm)s?\b|"
    # "The heatmap spot is a false alarm, correct?", "Would you call F2 a false alarm?"
    r"^(the |this |that )?(\w+[ '-]){1,4}(is|are|was|were) (just |only |merely )?an? false "
    r"(positive|alarm)s?\b|\bcall (\w+ ){1,3}(an? |just an? )?false (positive|alarm)s?\b|"
    r"\bf\d+\s*(=|:)\s*(an? )?false (positive|alarm)\b|"
    r"^(is )?f\d+ (\w+ )?(significant|relevant|important|concerning|worrying|nothing|artefact|"
    rf"artifact|noise|normal|real|true|genuine|{_TRIVIAL})\b|\bsomething real\b|"
    r"\bnormal (tissue|anatomy|brain|variant|variation|structure)\s*[?.!]*$|"
    r"\b(ignored?|disregard(ed)?|dismiss(ed)?)\b|"
    rf"{_FINDING_IS_ARTEFACT}"
)
_REALITY_REFERENT = re.compile(
    r"\bf\d+\b|\b(it|this|that|((the|this|that) )?(\w+ ){0,2}(finding|lesion|region|spot|area|"
    r"abnormality|blob|thing|activation|red|yellow|orange|hot|bright|hot ?spot|highlight|patch|peak|maximum|"
    r"brightest|hottest|colou?r))\b|"
    # "Is what the map highlights real?"
    r"\bwhat (the )?(map|heatmap|overlay|detector|model|tool) (highlights|shows|flags|marks|"
    r"picks up|lights up)\b"
)
_REALITY_DOUBT = re.compile(
    r"\b(could|might|may|possibly|perhaps|likely(?! (to be )?(just |only )?(an? )?(artefact|artifact|"
    r"noise)\b)|probability|chance|odds|confiden\w*|sure|"
    r"certain\w*|(?<!a )(?<!an )false (positive|alarm)s?|false negatives?|false-positive)\b|"
    r"\bhow (sure|likely)\b|"
    r"\bor (an? |just |simply |only )*(artefact|artifact|noise|real|true|genuine|lesion)\b|"
    r"\b(real|genuine|true) or\b|(?<!rather )(?<!more )(?<!other )\b(than|compared|relative to|versus|"
    r"vs)\b"
)
_COMPARED_TO = re.compile(
    r"\b((compared|relative) (to|with)|than|versus|vs\.?|against|(?<=intense )(to|with)) "
    r"(the |normal |adjacent |surrounding )*\w+"
)
# "That bright area is abnormal?": whether it is abnormal, whatever it is called
# "Can this be called within normal limits?", "could it be reported as normal?": whether it is
# normal, not what it could be
_LABELLED_AS = re.compile(
    r"\b(be|been|being) (called|considered|regarded|labell?ed|reported|classed|classified|deemed|"
    rf"signed off|passed) (as )?(an? )?(\w+ )?(within normal limits|{NORMAL_WORD}|abnormal|"
    r"pathological)\b"
)
# a yes/no about the patient's brain asked through the comparison with the pseudo-healthy image:
# a conclusion drawn from it ("..., so normal?", "enough to call the brain normal?"), the
# patient's own brain or scan as the subject, or what it reveals or what the reconstruction had
# to remove (not what the reconstruction is or how it looks: "Does the reconstruction look
# normal?", "Did it remove the lesion?")
_VIA_THE_RECONSTRUCTION = re.compile(
    r"\b(meaning|so|hence|thus|therefore|which means|i\.?e\.?),? (that )?(it is |the (brain|scan|"
    r"patient|image) is |there is )?(normal|healthy|fine|clean|clear|okay|ok|nothing (is )?wrong|"
    r"all good|abnormal|an? lesion|something wrong)\b|"
    r"\bto call (it|this|the (brain|scan|patient|image|study|slice)) (normal|healthy|abnormal|"
    r"clean|clear)\b|"
    # "Is the patient's brain normal according to ...", "does the real brain look as healthy as
    # the reconstruction?" (not "Is the pseudo-healthy scan an actual image of a healthy person?")
    r"^([^,?]{0,40},\s*)?(so |and |but )?(is|are|does|do) (the |this |my |his |her )?(patient'?s|real|"
    r"actual|original|input|native|acquired) (brain|scan|image|slice|mri|tissue) (really |still )?"
    r"((look|appear|seem)s? )?(as |just as )?(normal|healthy|abnormal\w*|fine|clear)\b|"
    r"\b(normal|healthy|abnormal\w*|lesions?|wrong|patholog\w*)\b.{0,20}\bin (the|this|my|his|"
    r"her) (patient'?s |real |actual |original )?(brain|scan)\b|"
    r"\b(reveal|uncover|expose|unmask)\w*\b.{0,30}\b(an? |any )(lesions?|abnormal\w*|"
    r"patholog\w*)\b|"
    r"\b(lesions?|abnormal\w*|patholog\w*|something|anything)\b.{0,30}\b(show|shows|showed|"
    r"turn|turns|stand|stands|pop|pops) (up|out)\b|"
    r"\b(had|has|have|needed|needs|need) to (remove|erase|change|fix|correct|paint out|take out|"
    r"delete|wipe out|smooth out|get rid of)\b"
)
_CALLED_NORMAL_AS = re.compile(
    r"\b(be|been|being) (used|read|taken|accepted|counted|kept|included|interpreted|described|"
    r"viewed|treated|filed) as (an? |the )?(\w+ )?(normal|healthy|negative|unremarkable|control)\b|"
    r"\b(is|was) (this|it|that) (scan |image |slice |brain |subject |one )?(an? )?(\w+ )?"
    r"(healthy )?control\b(?! (for|group|of))|\blooks? (like|as) (it|they) should\b|"
    r"\blooks? the way (it|they) should\b|"
    r"\b(one|single|a) word\b.{0,40}\b(be|is)\W*(normal|abnormal|healthy|clear|negative|"
    r"positive|unremarkable)\b"
)
# "Is this a scan I can file as normal?", "Can I sign it off as negative?", "Can I send him home
# on this scan?": whether it is normal
_FILED_AS = re.compile(
    r"\b(file|sign (it |this )?off|class|count|mark|put (it |this )?down|treat)\w* (it |this |this one "
    rf"|this scan |the scan )?as (an? )?(\w+ )?(within normal limits|{NORMAL_WORD}|abnormal|"
    r"pathological|negative|positive)\b|"
    rf"\b{_SEND_HOME}\b"
)
# a clinical act asked about: signing off, filing, discharging, reassuring ("Can I sign this off
# as normal?", "Safe to send her home?", "Can I reassure the family?")
# writing the reading into the patient's record
DOCUMENTING = (
    r"\b(write|document|put|record|state|enter|quote|cite|note)\b[^?]{0,80}\b(in|into|on) "
    r"(the |my |his |her |our |a |an )?(clinic |gp |referral |discharge |ward |radiology |formal |"
    r"final |written )?(op(erative|eration)? notes?|op-notes?|notes?|records?|charts?|"
    r"reports?|letters?|consent( form)?|discharge summary|mdt (list|notes|outcome))\b|"
    r"\b(ok|okay|safe|fine|alright|acceptable) to (document|record|write|chart)\b"
)
_CLINICAL_ACT = re.compile(
    rf"\b(sign\w* (it |this |the scan |this scan )?off|{_SEND_HOME}|discharg\w*|reassur\w*|"
    r"file (it |this |this scan |the scan )?as|surgical (target|candidate)|candidate for surgery|"
    r"operable|resectable|amenable to (surgery|resection)|(epilepsy )?surgery work-?up|"
    r"biopsy (target|site)|target for (a |the )?biopsy|where (should|do|would|can|to) (we |i |you )?"
    r"biopsy)\b|"
    # "Can I write 'left-sided lesion confirmed by AI' in the op note?", "OK to document ... in
    # the notes?"
    rf"{DOCUMENTING}|"
    # "Is there anything here that would mean he should stop driving?"
    r"\b(stop|fit|fitness|safe|allowed|ok|okay|able|continue|return) (\w+ ){0,2}(to )?driv\w*|"
    r"\bdriving (licen[cs]e|ban|restriction|status)\b|"
    # "Anything on the MRI that changes management?"
    r"\b(chang|alter|affect|influenc|impact)\w* (the |his |her |their |our |my )?(management|"
    r"treatment plan|plan of care|care plan)\b"
)


def asks_for_a_clinical_act(question: str) -> bool:
    """Whether a yes/no question asks if a clinical act follows (sign off, discharge, reassure),
    which is the clinician's decision, not the detector's."""
    return bool(_CLINICAL_ACT.search(normalise(question)))


_CALLED_NORMAL = re.compile(
    rf"\b(is|are|looks?|seems?) (\w+ )?(abnormal|{NORMAL_WORD}|pathological|a lesion)"
    # "so the signal is normal throughout yes" (dictated, a tag and no question mark)
    r"( (throughout|everywhere|overall|all over|here|on this (slice|scan|image)))?"
    r"( (yes|yeah|right|correct|true))?\s*\??$"
)
_HOW_MUCH_OF = re.compile(
    r"\bhow much of (the|this|that)\b|\btakes? up\b|\b(proportion|percentage|fraction) of\b"
)
_EXCLUDE = re.compile(r"\brule[sd]? out\b|\bruling out\b|\bexclud\w*\b")
_NEGATIVE_FOR = re.compile(
    rf"\bnegative for\b|\b(look|looks|appear|appears|seem|seems) {NORMAL_WORD}\b"
)


def _drop_anatomy(q: str) -> str:
    """`q` without the anatomical words that only qualify what a presence question asks about
    ("Any periventricular plaques?")."""
    q = ANATOMY.sub(" ", q)
    return re.sub(
        r"\b(near|close to|next to|adjacent to|abutting|involving) (the )?(\s|$|[?.!])", " ", q
    )


# ----------------------------------------------------------------------------- side questions
_IMAGE_FRAME = re.compile(
    r"\bimage[- ](left|right)\b|\bimage's (left|right)\b|\b(left|right)( hand)?( side| half|"
    r" part)? (of|on) (the |this )?(image|screen|picture|display|slice|monitor|viewer|"
    r"figure|scan)\b|\bas (displayed|shown|viewed|seen)\b|\bon (the )?screen\b|"
    r"\bviewer's (left|right)\b"
)
_PATIENT_FRAME = re.compile(
    r"\bpatient'?s?'? (own )?(left|right)\b|\bhemispher\w*\b|\banatomical\w*\b|"
    r"\b(his|her|their) (left|right)\b|\bthe patient\b|\bin the patient\b"
)


@dataclass(frozen=True)
class SideAsk:
    """What a side question asks: the sides it names ("left" / "right"), the frame it names
    ("image": the image as displayed, "patient": the patient's anatomy, None: neither), whether
    it names both frames ("the image left or the patient's left?"), and whether it is a choice
    ("left or right?") rather than a yes/no question about one side."""

    sides: tuple[str, ...]
    frame: str | None
    both_frames: bool
    choice: bool


def side_question(question: str) -> SideAsk:
    """The `SideAsk` of a side question ("Is F1 on the patient's left?" -> sides ("left",),
    frame "patient", choice False)."""
    q = without_hedge(normalise(question))
    t = _NOT_SIDE_LEFT.sub(" ", _NOT_SIDE_RIGHT.sub(" ", _SYMPTOM_SIDE.sub(" ", q)))
    sides = tuple(dict.fromkeys(re.findall(r"\b(left|right)\b", t)))
    image, patient = bool(_IMAGE_FRAME.search(t)), bool(_PATIENT_FRAME.search(t))
    frame = "image" if image and not patient else "patient" if patient and not image else None
    choice = (
        len(sides) != 1
        or bool(re.search(r"\b(left|right)\b.*\bor\b", t) and len(sides) > 1)
        or not yes_no_question(question)
    )
    return SideAsk(sides, frame, image and patient, choice)
