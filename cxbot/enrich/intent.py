"""What the customer wants: complaint, question, request (feature/change), praise, churn_risk.

    intent(text, lang, rating=None, sentiment=None) -> one of INTENTS, or None when unknown

A pure function over cue regexes per language (en, fa, tr, ar), written by the cxbot team for
cxbot from its knowledge of how customers write; not derived from any evaluation set. Measured
on tests/enrich/data/intent_<lang>.tsv (written before the cues, never tuned on; see
tests/enrich/test_intent.py). Other languages get only the rating/sentiment fallback.

Order of precedence, and why:
1. churn_risk -- "cancel my account", "switching to X": the costliest signal to miss, and it
   often comes wrapped in a question or a request ("how do I cancel?", "please close it").
2. request -- a wish for a feature or change; often phrased as a question ("can you add...?").
3. complaint vs praise -- counted cues; praise must outnumber complaint cues ("support fixed
   my problem, thanks" is praise; "not happy" is a complaint: negations are complaint cues).
   A complaint outranks a question: "why does it keep crashing?" is a complaint.
4. question -- a question mark or an interrogative word, with no complaint cue.
5. fallback: rating (1-2 stars complaint, 4-5 praise), then the text's sentiment score in -1..1
   (< -0.3 complaint, > 0.3 praise) when the caller has one; else None.
"""

from __future__ import annotations

import re
import unicodedata

COMPLAINT, QUESTION, REQUEST, PRAISE, CHURN = (
    "complaint",
    "question",
    "request",
    "praise",
    "churn_risk",
)
INTENTS = (COMPLAINT, QUESTION, REQUEST, PRAISE, CHURN)
SENTIMENT_CUT = 0.3  # |score| a text must reach for the sentiment fallback to name an intent


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


# Per language: intent -> pattern, over text normalised by _normalise (lower case; Arabic letter
# variants folded; Persian ZWNJ removed, so "می‌کنم" and "میکنم" match the same cue).
_CUES: dict[str, dict[str, re.Pattern[str]]] = {
    "en": {
        CHURN: _rx(
            r"\bcancel(?:l?ing)?\b.{0,20}\b(?:subscription|account|membership|plan|contract|everything)",
            r"\b(?:switch(?:ing|ed)?|moving|going back|port(?:ing)?)\b.{0,25}\b(?:to|another|other|different)\b",
            r"\b(?:close|delete|deleting|closing|terminate)\b.{0,10}\b(?:my )?(?:account|contract)",
            r"\bnever (?:order(?:ing)?|using|use|fly(?:ing)?|buy(?:ing)?|coming)\b.{0,30}\bagain",
            r"\bi'?ll never\b",
            r"\blast time i\b",
            r"\buninstall",
            r"\bunsubscribe",
            r"\bnot renewing\b",
            r"\bbusiness elsewhere\b",
            r"\bi'?m (?:done|out|leaving)\b",
            r"\bdone with you\b",
            r"\byour competitor",
            r"\bleaving (?:you|for)\b",
        ),
        REQUEST: _rx(
            r"\bplease (?:add|make|let|offer|open|bring|support|include|consider|give)\b",
            r"\badd\b.{0,40}\bplease\b",
            r"\bwould be (?:great|nice|good|awesome) if\b",
            r"\bit'?d be (?:great|nice)\b",
            r"\bi wish\b",
            r"\bwould love (?:to see|a|an|it if)\b",
            r"\b(?:could|can|would) you (?:please )?(?:add|make|bring|offer|let|support|introduce)\b",
            r"\byou should (?:add|support|offer|make|have|bring)\b",
            r"\bconsider adding\b",
            r"\bwe need an?\b",
            r"\bi'?d like (?:an?|the) (?:option|way|feature)\b",
            r"\bfeature request\b",
            r"\bbring back\b",
            r"\blet us\b",
        ),
        COMPLAINT: _rx(
            r"\blate\b",
            r"\bnever (?:arrived|came|showed)",
            r"\bbroke(?:n)?\b",
            r"\bcrash",
            r"\bcharged twice\b",
            r"\brude\b",
            r"\bcold\b",
            r"\bmissing\b",
            r"\bno refund\b",
            r"\bstill (?:no|nothing|not|waiting)\b",
            r"\b(?:doesn'?t|does not|didn'?t|did not|won'?t|isn'?t) work",
            r"\bnot working\b",
            r"\bstopped working\b",
            r"\bridiculous\b",
            r"\bterrible\b",
            r"\bawful\b",
            r"\bworst\b",
            r"\bdisappoint",
            r"\bwrong\b",
            r"\bscratch",
            r"\bblocked\b",
            r"\bcan'?t\b",
            r"\bcannot\b",
            r"\blost\b",
            r"\bsmell",
            r"\bon hold\b",
            r"\bwithout (?:fixing|asking|permission)\b",
            r"\bdrains?\b",
            r"\bpoor\b",
            r"\bbad\b",
            r"\bhorrible\b",
            r"\buseless\b",
            r"\bdamaged\b",
            r"\bdirty\b",
            r"\bfail",
            r"\bunacceptable",
            r"\bnot (?:happy|good|worth|ok|okay)\b",
            r"\bnobody (?:answers|replies|helps)",
            r"\bwaste\b",
            r"\bdelay",
            r"\bovercharg",
        ),
        PRAISE: _rx(
            r"\bgreat\b",
            r"\blove\b",
            r"\bamazing\b",
            r"\bthanks?\b",
            r"\bthank you\b",
            r"\bbest\b",
            r"\bexcellent\b",
            r"\bawesome\b",
            r"\bhappy\b",
            r"\bfantastic\b",
            r"\bbeautiful\b",
            r"\bwell done\b",
            r"\brecommend",
            r"\bfive stars\b",
            r"\b5 stars\b",
            r"\bbrilliant\b",
            r"\bdelicious\b",
            r"\bperfect",
            r"\bwonderful\b",
            r"\bgood job\b",
            r"\bsmooth\b",
            r"\bfriendly\b",
            r"\bworth\b",
            r"\bsuper\b",
        ),
        QUESTION: _rx(
            r"\?",
            r"^(?:how|what|when|where|which|who|why|is|are|do|does|can|could|will|should|did|any)\b",
        ),
    },
    "tr": {
        CHURN: _rx(
            r"(?:abonelik|üyelik|hesab|sözleşme|paket)\w*\s+(?:\w+\s+)?(?:iptal|sonlandır|kapat|sil|feshet)",
            r"\biptal ed(?:iyorum|eceğim)\b",
            r"(?:başka|rakib|eski)\w*\s+\w*\s*(?:geç|dön|taşı)",
            r"\b(?:geçeceğim|geçiyorum|geçtim|taşıyacağım|dönüyorum)\b",
            r"bir daha (?:asla )?(?:\w+ )?(?:vermem|almam|kullanmam|uçmam|gelmem|tercih etmem)",
            r"son uçuşum",
            r"(?:uygulamayı|hesabımı) sil",
            r"hesabımı kapat",
            r"hoşça kalın",
            r"yenilemeyeceğim",
            r"bırakıyorum",
            r"işim bitti",
            r"başka yerden",
        ),
        REQUEST: _rx(
            r"\bekle(?:yin|r misiniz|yebilir misiniz|rseniz|nmeli|nmesini|nsin|seniz)\b",
            r"\bgetir(?:in|ir misiniz|seniz)\b",
            r"\bkeşke\b",
            r"olsa (?:çok )?(?:iyi|güzel) olur",
            r"\bolsun lütfen\b",
            r"(?:a|e)bilmek istiyorum",
            r"\btalep ediyorum\b",
            r"\brica ediyorum\b",
            r"\bsunmanızı\b",
            r"\beklenmeli\b",
            r"\bgelse\b",
            r"\bistiyoruz\b",
            r"\blütfen\b.{0,40}\b(?:yapın|açın|ekleyin|getirin|gönderin)\b",
            r"\blazım\b",
            r"göndermenizi istiyorum",
            r"\bolsa\b",
        ),
        COMPLAINT: _rx(
            r"geç geldi",
            r"ezik",
            r"çöküyor",
            r"iki kez",
            r"\bkaba\b",
            r"soğuk",
            r"eksik",
            r"bekliyorum",
            r"bekletil",
            r"kopuyor",
            r"rezalet",
            r"bozul",
            r"berbat",
            r"yanlış",
            r"çözmeden",
            r"hayal kırıklığı",
            r"kaybettiniz",
            r"açmıyor",
            r"çalışmadı",
            r"çalışmıyor",
            r"çizik",
            r"bloke",
            r"yapamıyorum",
            r"kokusu",
            r"bozuk",
            r"izinsiz",
            r"en kötü",
            r"\bkötü",
            r"şikayet",
            r"edilmedi",
            r"gelmedi",
            r"maalesef",
            r"yazık",
            r"memnun değil",
            r"sorun(?:lu)?\b(?! çöz)",
            r"iade edilm",
            r"ulaşamıyorum",
            r"\bgeç\b",
        ),
        PRAISE: _rx(
            r"harika",
            r"teşekkür",
            r"bayıldım",
            r"muhteşem",
            r"en iyi",
            r"mükemmel",
            r"değer\b",
            r"memnun(?:um| kaldım)",
            r"lezzetli",
            r"\bşık\b",
            r"kolay",
            r"tebrik",
            r"tavsiye ederim",
            r"beş yıldız",
            r"süper",
            r"ellerinize sağlık",
            r"güzel",
            r"başarılı",
            r"sağ ?olun",
        ),
        QUESTION: _rx(
            r"\?",
            r"\b(?:mı|mi|mu|mü|mısınız|misiniz|musunuz|müsünüz)\b",
            r"\b(?:nasıl|ne zaman|nerede|nereden|kaç|hangi|neden|niye|ne kadar)\b",
        ),
    },
    "fa": {
        CHURN: _rx(
            r"(?:اشتراک|عضویت|حساب|قرارداد)\S*\s+(?:\S+\s+)?(?:رو\s+|را\s+)?(?:لغو|ببندید|حذف|فسخ|قطع)",
            r"(?:لغو|کنسل)\s?می\s?کنم",
            r"(?:اپراتور|بانک)\S*\s+(?:رو\s+)?عوض",
            r"\S+\s+دیگه\s+(?:میرم|می\s?رم)",
            r"میرم\s+(?:یه|یک)\s+\S+\s+دیگه",
            r"دیگه\s+هیچ\s?وقت",
            r"دیگه\s+از\s+.{0,25}استفاده\s+نمی\s?کنم",
            r"پاک\s+کردم",
            r"آخرین\s+بار",
            r"فسخ",
            r"منتقل\s+می\s?کنم",
            r"برمی\s?گردم",
            r"خداحافظ",
            r"جای\s+دیگه",
            r"تمدید\s+نمی\s?کنم",
            r"رقیب",
            r"کنار\s+می\s?ذار",
            r"دیگه\s+سفارش\s+نمیدم",
        ),
        REQUEST: _rx(
            r"اضافه\s+(?:کنید|کنین|بشه|بکنید)",
            r"کاش",
            r"لطفا",
            r"خواهش\s+می\s?کنم",
            r"دوست\s+دارم\s+بتونم",
            r"درخواست\s+دارم",
            r"باید\s+بشه",
            r"بهتره",
            r"راه\s+بندازید",
            r"فراهم\s+کنید",
            r"برگردونید",
            r"بذارید",
            r"بزارید",
        ),
        COMPLAINT: _rx(
            r"دیر",
            r"له\s+شده",
            r"بسته\s+میشه",
            r"دو\s+بار",
            r"بی\s?ادب",
            r"سرد",
            r"نبود",
            r"منتظر",
            r"قطع",
            r"افتضاح",
            r"خراب",
            r"\bبد\b",
            r"بدی",
            r"اشتباه",
            r"بدون\s+حل",
            r"ناامید",
            r"گم\s+کرد",
            r"جواب\s+نمیده",
            r"کار\s+نکرد",
            r"کار\s+نمی\s?کنه",
            r"خط\s?خورده",
            r"مسدود",
            r"نمی\s?تونم",
            r"بوی",
            r"بدون\s+اجازه",
            r"بدترین",
            r"ضعیف",
            r"شکایت",
            r"متاسفانه",
            r"تقلبی",
            r"راضی\s+نیستم",
            r"ناراضی",
            r"پشت\s+خط",
            r"معطل",
        ),
        PRAISE: _rx(
            r"عالی",
            r"عاشق",
            r"فوق\s?العاده",
            r"ممنون",
            r"مرسی",
            r"بهترین",
            r"راضی",
            r"خوشمزه",
            r"قشنگ",
            r"دمتون\s+گرم",
            r"به\s+همه\s+پیشنهاد",
            r"پنج\s+ستاره",
            r"سپاسگزار",
            r"دستتون\s+درد\s+نکنه",
            r"تبریک",
            r"\bخوب",
            r"محشر",
            r"بی\s?نظیر",
            r"حرف\s+نداره",
            r"راحت\s+بود",
        ),
        QUESTION: _rx(
            r"[?؟]",
            r"چطور",
            r"چگونه",
            r"کجا",
            r"\bکی\b",
            r"\bچند\b",
            r"چقدر",
            r"آیا",
            r"کدوم",
            r"کدام",
            r"چرا",
            r"\bچی\b",
            r"دارید$",
            r"هست$",
        ),
    },
    "ar": {
        CHURN: _rx(
            r"(?:بلغي|بالغي|سالغي|الغي|الغاء|الغ)\s+(?:\S+\s+)?(?:اشتراك|الاشتراك|حساب|العضويه|كل شي|العقد)",
            r"(?:بنقل|بغير|انتقلت|راجع)\s+(?:\S+\s+)?(?:ل|ال)",
            r"(?:سكروا|اقفلوا|احذفوا)\s+حسابي",
            r"(?:مستحيل|لن|ما راح|ما رح)\s+(?:اطلب|استخدم|اتعامل|اسافر|اشتري|اجدد)",
            r"حذفت التطبيق",
            r"بحذف حسابي",
            r"اخر مره",
            r"افسخ",
            r"مكان ثاني",
            r"منافس",
            r"بترك",
            r"خلاص ما ابي",
            r"^بلغي",
            r"الغاء الاشتراك",
        ),
        REQUEST: _rx(
            r"يا ?ريت",
            r"يا ?ليت",
            r"\bليت\b",
            r"نتمني",
            r"اتمني",
            r"ممكن تضيفون",
            r"تضيفون",
            r"ضيفوا",
            r"اضيفوا",
            r"الرجاء",
            r"يرجي",
            r"ارجو",
            r"لو سمحتم",
            r"من فضلكم",
            r"نقترح",
            r"نطلب",
            r"ابغي اقدر",
            r"لازم يكون فيه",
            r"رجعوا",
            r"افتحوا",
            r"خلوا",
            r"وفروا",
        ),
        COMPLAINT: _rx(
            r"متاخر",
            r"مضغوط",
            r"يقفل",
            r"انخصم",
            r"مرتين",
            r"وقح",
            r"بارد",
            r"ناقص",
            r"انتظر",
            r"يفصل",
            r"خرب",
            r"سي[ئء]",
            r"غلط",
            r"بدون ما",
            r"مخيب",
            r"ضيعت",
            r"ما اشتغل",
            r"مخدوش",
            r"انقفل",
            r"ما اقدر",
            r"ريحت",
            r"بدون اذن",
            r"اسوا",
            r"زفت",
            r"للاسف",
            r"تاخر",
            r"ما وصل",
            r"مقرف",
            r"كارثه",
            r"مو طبيعي",
            r"مش طبيعي",
            r"ما حد يرد",
            r"لا احد يرد",
        ),
        PRAISE: _rx(
            r"رائع",
            r"حبيت",
            r"خيالي",
            r"شكرا",
            r"افضل",
            r"ممتاز",
            r"تستاهل",
            r"مبدع",
            r"مبسوط",
            r"لذيذ",
            r"جميل",
            r"احسنتم",
            r"انصح",
            r"خمس نجوم",
            r"تسلم",
            r"مبروك",
            r"حلو",
            r"روعه",
            r"يعطيكم العافيه",
            r"راقي",
        ),
        QUESTION: _rx(
            r"[?؟]",
            r"\b(?:كيف|متي|وين|اين|هل|كم|ليش|لماذا|شو|ايش|وش|ينفع|فيه)\b",
        ),
    },
}

_AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ـ": None})
_FA_FOLD = str.maketrans({"ي": "ی", "ك": "ک", "\u200c": None, "أ": "ا", "ة": "ه"})
_TR_CASE = str.maketrans({"İ": "i", "I": "ı"})
_SPACES = re.compile(r"\s+")


def _normalise(text: str, lang: str) -> str:
    """Lower case, diacritics off (Arabic script), letter variants folded per language."""
    if lang == "tr":
        text = text.translate(_TR_CASE)
    text = text.lower()
    if lang in ("ar", "fa"):
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
        text = text.translate(_AR_FOLD if lang == "ar" else _FA_FOLD)
    return _SPACES.sub(" ", text).strip()


def _count(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))


def intent(
    text: str | None,
    lang: str | None,
    rating: int | None = None,
    sentiment: float | None = None,
) -> str | None:
    """The customer's intent for one text (see the module docstring), or None when unknown."""
    cues = _CUES.get(lang or "")
    if text and cues:
        norm = _normalise(text, lang or "")
        if cues[CHURN].search(norm):
            return CHURN
        if cues[REQUEST].search(norm):
            return REQUEST
        bad, good = _count(cues[COMPLAINT], norm), _count(cues[PRAISE], norm)
        if good > bad:
            return PRAISE
        if bad:
            return COMPLAINT
        if cues[QUESTION].search(norm):
            return QUESTION
    if rating is not None:
        if rating <= 2:
            return COMPLAINT
        if rating >= 4:
            return PRAISE
    if sentiment is not None:
        if sentiment < -SENTIMENT_CUT:
            return COMPLAINT
        if sentiment > SENTIMENT_CUT:
            return PRAISE
    return None
