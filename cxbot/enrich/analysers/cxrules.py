"""English customer-experience cues that general sentiment lexicons miss.

"My package never arrived", "charged twice", "still waiting", "cancel my subscription" carry no
emotional word, so TextBlob and VADER call them neutral; to a CX team they are complaints.
These cues were written from support-desk experience (the usual ways customers describe
non-delivery, broken products, billing trouble, being ignored and leaving), never from an
evaluation set. Each cue has a weight (negative = complaint) and says what a negation in the
three words before it does: "flip" ("not worth it", "no issues") or "drop" ("not damaged").
Cues that already contain their negation ("doesn't work") are matched as whole phrases.
"""

from __future__ import annotations

import math
import re
from typing import Literal

STRONG = 0.6
MEDIUM = 0.35
MILD = 0.2

_NEG_AUX = (
    r"(?:doesn't|does not|didn't|did not|won't|will not|wouldn't|would not|can't|cannot|"
    r"can not|couldn't|could not|isn't|is not|aren't|are not|wasn't|was not|unable to|"
    r"not able to)"
)
_NOT_YET = (
    r"(?:didn't|did not|haven't|have not|hasn't|has not|still not|not yet|never|still haven't|"
    r"still hasn't)"
)
# One optional word between two cue words -- but not a negation, which would turn the cue.
_ANY_WORD = r"(?:(?!not |never |no )\w+ )?"
_ITEM = r"(?:bag|bags|luggage|baggage|suitcase|package|parcel|order|item|items|box|delivery)"

# (weight, on negation, patterns). Patterns are joined per row into one alternation.
_CUES: list[tuple[float, Literal["flip", "drop", "keep"], list[str]]] = [
    # Not delivered / not received.
    (
        -STRONG,
        "keep",
        [
            rf"{_NOT_YET} (?:\w+ )?(?:arrived?|received?|got(?:ten)?|get|come|came|shown up|"
            r"showed up|"
            r"shipped|been (?:delivered|shipped|refunded|credited|processed)|heard back|"
            r"responded|replied|fixed|resolved)",
            r"never (?:arrived|arrives|came|comes|got|received|showed up|delivered|shipped|"
            r"heard back|answered|answers|replied|replies|responded|responds|works|worked)",
            r"still (?:waiting|no|nothing|missing|broken|not|haven't|hasn't|can't|cannot|unable|"
            r"doesn't|does not|didn't|won't|being charged|charging me)",
            rf"(?:lost|misplaced|damaged|broke|opened|stole) (?:my|our|the) {_ITEM}",
            r"says delivered|marked (?:as )?delivered",
        ],
    ),
    # It does not work.
    (
        -STRONG,
        "keep",
        [
            rf"{_NEG_AUX} (?:\w+ )?(?:work|load|open|start|turn on|power on|charge|connect|sync|"
            r"fit|close|stay|hold|respond|pair|install|update|boot)",
            r"(?:not|stopped|quit|stops|ceased) (?:working|charging|loading|responding|turning on)",
            r"(?:stopped|quit) work(?:ing|s)?",
            r"(?:can't|cannot|couldn't|could not|unable to|not able to) (?:log|sign) ?in|"
            r"locked out",
            r"(?:keeps?|kept) (?:crashing|freezing|failing|dropping|disconnecting|restarting|"
            r"logging me out|charging me|sending me)",
            r"(?:fell|falls|falling|came|coming|comes) apart|dead on arrival",
            r"not as (?:described|advertised|pictured|shown|expected)",
        ],
    ),
    # Money taken wrongly, money wanted back.
    (
        -STRONG,
        "keep",
        [
            r"charged (?:me )?(?:twice|two times|double|again|extra|after|for something)|"
            r"double[- ]charged|overcharg\w*|billed (?:me )?(?:twice|again|after)",
            r"unauthori[sz]ed (?:charge|transaction|payment|debit)",
            r"(?:want|need|demand) (?:my|a|the) (?:money|refund)|(?:give|send) me my money|"
            r"money back|chargeback|dispute (?:the|this|a) charge",
            r"waste of (?:money|time)|not worth|rip[- ]?off|\bscam|fraud",
        ],
    ),
    # Leaving.
    (
        -STRONG,
        "keep",
        [
            r"cancel+(?:ing|ed)? (?:my|the|our) (?:subscription|account|membership|order|plan|"
            r"service|contract|card)",
            r"close (?:my|our) account|unsubscrib\w*",
            r"(?:wouldn't|would not|do not|don't|never|won't|will not|can't|cannot|could not|"
            r"couldn't) recommend",
            r"never (?:again|buying|ordering|flying|using|shopping|buy|order|fly|use|shop|"
            r"book|booking)",
            r"(?:do not|don't|never) (?:buy|order|waste|bother|purchase)",
            r"(?:switching|switched|moving|going|move|switch) to (?:another|a different|a new|your "
            r"competitor|\w+ instead)",
        ],
    ),
    # Ignored, bounced around, repeated contact.
    (
        -STRONG,
        "keep",
        [
            r"no ?(?:one|body) (?:\w+ )?(?:answers|answered|responds|responded|replies|replied|"
            r"helps|helped|cares|called|calls|picks up|got back|gets back|knows|is answering)",
            r"(?:no|zero) (?:response|responses|reply|replies|answer|answers|update|updates|help|"
            r"callback|call back|follow[- ]up)",
            r"(?:twice|\d+|two|three|four|five|six|several|many|multiple|countless) "
            r"(?:times|emails|calls|messages|tickets|chats|attempts)"
            r"(?! (?:better|faster|more|cheaper|as|the))",
            r"(?:i'm|i am|we're|we are) (?:so |really )?done with|(?:what a|is a|such a|absolute|"
            r"total|complete) joke",
            r"(?:on hold|in (?:the )?queue|waiting|waited) (?:for )?(?:over |almost |nearly |more "
            r"than )?(?:\d+|an?|two|three|four|five|six|several|many) (?:min|mins|minutes|hour|"
            r"hours|hrs|day|days|week|weeks|month|months)",
            r"(?:been|i've been|we've been|i have been|we have been) waiting",
            r"hung up|transferred (?:\w+ )?(?:times|again)|"
            r"(?:third|3rd|fourth|4th|fifth|5th) time",
            r"(?:delayed|cancel+ed) (?:flight|again|for)|"
            r"flight (?:was |got |is )?(?:cancel+ed|delayed)"
            r"|missed (?:my |our )?connection|overbooked|stranded|stuck (?:on|at|in)",
        ],
    ),
    # Sarcasm: the thanks is not praise, so this outweighs the "thanks" cue and the lexicons.
    (
        -3 * STRONG,
        "keep",
        [
            r"thanks? (?:you )?(?:so much |a lot )?for (?:nothing|ruining|losing|wasting|the delay|"
            r"making me|breaking|cancel+ing|leaving me|charging me)",
        ],
    ),
    # Things that arrived wrong or broke, payments that failed, data lost.
    (
        -MEDIUM,
        "keep",
        [
            r"(?:card|payment|transaction|order) (?:was |got |is |keeps getting )?(?:declined|"
            r"rejected|failed)|payment failed",
            r"(?:does|did|do) nothing|without (?:any )?(?:warning|notice|explanation|reason|asking|"
            r"permission|consent)",
            r"(?:deleted|wiped|erased|lost) (?:all )?(?:my|our) (?:data|notes|files|photos|"
            r"progress|account|history|messages|contacts)",
            r"used to be (?:good|great|better|reliable)|garbage|trash|junk|crap|rubbish|useless",
            r"battery (?:drains|dies|died|drained|lasts? (?:only|just|less))",
            r"(?:fell|came|fall|falls|come|comes) (?:off|apart|loose|out)",
        ],
    ),
    (
        -MEDIUM,
        "drop",
        [
            rf"(?:arrived|came|showed up|delivered|was|were) {_ANY_WORD}(?:broken|damaged|"
            r"defective|cracked|dented|open|opened|used|empty|wrong|late|cold|spoiled|expired|missing|torn)",
            r"(?:wrong|incorrect) (?:item|size|order|product|colou?r|address|amount|charge|bill|"
            r"part|model|one)",
            r"(?:missing|lost) (?:item|items|part|parts|piece|pieces|package|parcel|order)",
            r"broke|broken|defective|faulty|malfunction\w*|cracked|shattered|doa\b",
            r"return(?:ed|ing)? (?:it|them|this|these|the item|the product|mine)|"
            r"(?:sent|send|sending|ship|shipped) (?:it|them|this) back",
            r"leak(?:s|ed|ing)?\b|ripped|peeling|rusted|(?:too|very) (?:small|big|large|tight|"
            r"loose|thin|flimsy|short)|flimsy|cheaply made|cheap (?:material|plastic|quality)",
            r"(?:poor|low|bad) quality|(?:drains?|drained|draining) (?:my |the )?battery",
        ],
    ),
    # Friction: delays, errors, fees, complaint questions.
    (
        -MILD,
        "drop",
        [
            r"refund\w*|reimburs\w*|charged|billed|(?:extra|hidden|late|additional|cancellation|"
            r"change|service) (?:fee|fees|charge|charges)",
            r"late|delay\w*|(?:too )?slow|lag(?:s|gy|ging|ged)?|freez\w*|crash\w*|\bbug\w*|"
            r"glitch\w*|\berrors?\b|outage|\bdown (?:again|since|for)|not loading|"
            r"no (?:signal|service|internet)",
            r"(?:expensive|overpriced|pricey|price (?:hike|increase)|more expensive)",
            r"why (?:is|isn't|can't|won't|does|doesn't|do|don't|did|didn't|are|aren't|was|wasn't|"
            r"would|has|hasn't|have|haven't|am|is there|does it|do i|do you)",
            r"how (?:long|much longer|many more|many times)|where(?:'s| is| are) my",
            r"(?:please|pls|plz) (?:fix|help|respond|reply|answer|refund|call|look into|sort)|"
            r"fix (?:this|it|your)|sort (?:this|it) out|(?:supposed to|should have|should've|"
            r"expected (?:better|more))",
            r"cancel\w*",
        ],
    ),
    (-MILD, "flip", [r"\b(?:problems?|issues?|complaints?|trouble)\b"]),
    # Praise in CX words.
    (
        MEDIUM,
        "flip",
        [
            r"(?:highly|definitely|would|will|totally|strongly|100%) recommend|recommended",
            r"(?:works|worked|working|fits|fit) (?:great|perfectly|perfect|well|fine|like a charm|"
            r"as expected|as advertised|as described|beautifully|flawlessly)",
            r"exactly (?:as described|what i (?:wanted|needed|ordered|expected))|as described",
            rf"(?:arrived|came|delivered|shipped) {_ANY_WORD}(?:early|quickly|fast|on time|"
            r"ahead of schedule|in perfect condition|as promised)|\bon time\b",
            r"(?:fast|quick|speedy|prompt|rapid|immediate) (?:shipping|delivery|response|reply|"
            r"service|refund|resolution|support|turnaround|help)",
            r"(?:resolved|fixed|solved|sorted) (?:it|my|the|this|everything|in|quickly|right away|"
            r"immediately|out)|(?:problem|issue|it|everything) (?:was |got |is |has been )?"
            r"(?:resolved|fixed|solved|sorted)",
            r"(?:you|you guys|y'all|they) rock|rocks",
            r"(?:will|would|definitely|gonna) (?:buy|order|fly|shop|use|book|come back|purchase)"
            r"(?: \w+)? (?:again|more)|repeat customer|(?:bought|ordered) (?:a |an )?(?:second|"
            r"another|two more|more)",
            r"worth (?:it|the money|every penny|the price)|"
            r"(?:great|good|excellent|amazing) (?:value|price|deal|quality|service|support|"
            r"product|experience|job)",
            r"(?:five|5)[- ]stars?|10/10|(?:love|loved|loving) (?:it|this|them|the|my|how|that)",
            r"thank you|thanks|\bthx\b|kudos|shout ?out|above and beyond|well done|keep it up",
            r"(?:so|very|super|really) (?:easy|helpful|fast|quick|comfortable|happy|pleased|"
            r"satisfied|friendly)",
        ],
    ),
]

# A negator up to three words before a cue ("not really worth it", "no issues").
_NEGATED = re.compile(
    r"(?:\bnot|\bno|\bnever|n't|\bwithout|\bhardly|\bzero|\bnothing)(?:\W+\w+){0,2}\W*$"
)


# One scan for all rows: each row is a named group, so a match says which row it belongs to.
# Where two rows could match at the same place, the earlier (more specific) row wins and the
# place counts once -- "cancel my subscription" is churn, not also the mild "cancel".
_RULES: tuple[tuple[float, str], ...] = tuple((weight, neg) for weight, neg, _ in _CUES)
# `\b(?=\w)`: every cue starts with a word character, so only word starts can match; without
# the look-ahead the engine also tries all cues at every word end (twice the work).
_SCAN = re.compile(
    r"\b(?=\w)(?:"
    + "|".join(f"(?P<r{i}>{'|'.join(pats)})" for i, (_, _, pats) in enumerate(_CUES))
    + r")\b"
)


# Emoji customers use to grade a service; VADER's emoji table scores several of them 0
# (thumbs up/down, angry faces, red heart), which would make "👍" a fake neutral.
_EMOJI: dict[str, float] = {
    **dict.fromkeys("\U0001f44d\U0001f44f\u2764\U0001f60d\U0001f970\U0001f929\U0001f4af", MEDIUM),
    **dict.fromkeys("\U0001f64f\u2b50\U0001f31f\U0001f60a\U0001f642\U0001f600\U0001f603"
                    "\U0001f604\U0001f601\U0001f389\u2705", MILD),
    **dict.fromkeys("\U0001f44e\U0001f621\U0001f620\U0001f624\U0001f926\U0001f4a9", -MEDIUM),
    **dict.fromkeys("\U0001f92c\U0001f92e", -STRONG),
    **dict.fromkeys("\U0001f644\U0001f61e\U0001f622\u2639\U0001f641\U0001f612\U0001f615"
                    "\U0001f629\U0001f62b\u274c", -MILD),
}  # fmt: skip
_EMOJI_RE = re.compile("[" + "".join(_EMOJI) + "]")


def emoji_evidence(text: str) -> float:
    """Sum of emoji weights; each distinct emoji counts at most twice ("👍👍👍" = two)."""
    seen: dict[str, int] = {}
    total = 0.0
    for ch in _EMOJI_RE.findall(text):
        seen[ch] = seen.get(ch, 0) + 1
        if seen[ch] <= 2:
            total += _EMOJI[ch]
    return total


def cx_evidence(text: str) -> float:
    """Sum of cue weights found in `text` (lower-cased inside). 0.0 when no cue matches.

    A row counts at most twice, so a long rant does not outweigh everything else.
    """
    low = text.lower().replace("\u2019", "'")
    total = 0.0
    hits: dict[str, int] = {}
    for m in _SCAN.finditer(low):
        row = m.lastgroup or ""
        if hits.get(row, 0) == 2:
            continue
        weight, on_negation = _RULES[int(row[1:])]
        if on_negation != "keep" and _NEGATED.search(low, max(0, m.start() - 30), m.start()):
            if on_negation == "drop":
                continue
            weight = -weight
        total += weight
        hits[row] = hits.get(row, 0) + 1
    return total + emoji_evidence(text)


def squash(evidence: float) -> float:
    """Evidence (unbounded) -> -1..1, so two cues count more than one but never 'infinitely'."""
    return math.tanh(evidence)
