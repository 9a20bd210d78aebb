"""Feedback vocabulary: the words and short phrases people use for each catalog attribute value.

The lists were drawn up after reading how shoppers phrase feedback (FashionIQ-style captions):
colour names and shades, relative words (darker, longer, tighter), sleeve, length and fit words,
pattern nouns, style words. Only single words and short phrases live here, never sentences.
The first entry of each list is the canonical word.
"""

from __future__ import annotations

# Catalog colour -> words and shades that name it.
COLOR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "jet black", "all black", "ebony"),
    "grey": ("grey", "gray", "charcoal", "silver", "heather grey", "ash grey", "slate"),
    "white": ("white", "ivory", "off white", "snow white", "cream"),
    "beige": ("beige", "tan", "khaki", "camel", "nude", "sand", "taupe", "cream"),
    "brown": ("brown", "chocolate", "coffee", "mocha", "chestnut", "dark brown"),
    "navy": ("navy", "navy blue", "dark blue", "midnight blue", "deep blue"),
    "blue": ("blue", "royal blue", "cobalt", "bright blue", "medium blue", "azure"),
    "light blue": ("light blue", "sky blue", "baby blue", "pale blue", "powder blue", "aqua",
                   "turquoise"),
    "burgundy": ("burgundy", "maroon", "wine", "dark red", "oxblood", "bordeaux"),
    "red": ("red", "bright red", "scarlet", "crimson", "cherry red", "fire engine red"),
    "pink": ("pink", "hot pink", "light pink", "rose", "fuchsia", "magenta", "blush", "salmon"),
    "dark green": ("dark green", "forest green", "hunter green", "emerald", "bottle green"),
    "green": ("green", "kelly green", "grass green", "lime", "bright green"),
    "mint": ("mint", "mint green", "light green", "pale green", "seafoam", "pastel green"),
    "purple": ("purple", "violet", "plum", "dark purple", "eggplant", "grape"),
    "lavender": ("lavender", "lilac", "light purple", "pale purple", "mauve", "periwinkle"),
    "orange": ("orange", "coral", "peach", "rust", "tangerine", "burnt orange", "apricot"),
    "yellow": ("yellow", "mustard", "gold", "golden", "lemon", "canary"),
    "olive": ("olive", "olive green", "army green", "khaki green", "moss"),
}
# Colour words with no single catalog colour: they count as "a colour was named" but map to none.
UNMAPPED_COLOR_WORDS = frozenset({
    "multicolored", "multicolor", "multi colored", "multi", "colorful", "colourful",
    "neon", "metallic", "rainbow", "tie dye", "camo", "camouflage",
})
# Colour words the catalog palette lacks -> the palette colours that stand in for them (read by
# the parser only; the caption generator keeps to COLOR_WORDS). Entries also listed in
# COLOR_WORDS widen that reading (tan: beige, and brown too).
OFF_PALETTE: dict[str, tuple[str, ...]] = {
    "maroon": ("burgundy",), "wine": ("burgundy",), "wine red": ("burgundy",),
    "cream": ("white", "beige"), "ivory": ("white",), "off white": ("white", "beige"),
    "eggshell": ("white",), "tan": ("beige", "brown"), "camel": ("beige", "brown"),
    "khaki": ("beige", "olive"), "taupe": ("beige", "grey"), "nude": ("beige",),
    "navy blue": ("navy",), "indigo": ("navy", "purple"), "teal": ("blue", "dark green"),
    "turquoise": ("light blue", "mint"), "aqua": ("light blue", "mint"), "cyan": ("light blue",),
    "coral": ("orange", "pink"), "peach": ("orange", "pink"), "salmon": ("pink", "orange"),
    "rust": ("orange", "brown"), "gold": ("yellow",), "golden": ("yellow",),
    "mustard": ("yellow", "olive"), "bronze": ("brown", "orange"), "copper": ("orange", "brown"),
    "silver": ("grey",), "charcoal": ("grey", "black"), "slate": ("grey",),
    "fuchsia": ("pink", "purple"), "magenta": ("pink", "purple"), "mauve": ("lavender", "pink"),
    "lime": ("green",), "emerald": ("dark green", "green"), "sage": ("mint", "olive"),
    "blues": ("blue", "navy", "light blue"), "whiter": ("white",), "blacker": ("black",),
    "bluer": ("blue",), "redder": ("red",), "greener": ("green",), "pinker": ("pink",),
    "browner": ("brown",), "greyer": ("grey",), "yellower": ("yellow",),
}
# Words after a colour that make it the colour of a detail, not of the garment
# ("black with white lettering": the garment is black).
DETAIL_NOUNS = frozenset({
    "stripes", "stripe", "lines", "design", "designs", "logo", "logos", "lettering", "letters",
    "letter", "writing", "words", "word", "text", "font", "print", "prints", "graphic",
    "graphics", "image", "images", "picture", "pictures", "art", "motif", "emblem", "skull",
    "flowers", "flower", "polka", "dots", "dot", "spots", "accents", "accent", "trim", "trimming",
    "piping", "belt", "buttons", "button", "collar", "tie", "bow", "straps", "strap", "sleeves",
    "lace", "pocket", "pockets", "detail", "details", "detailing", "embroidery", "writting",
})
# British and misspelt variants folded before matching.
SPELLING = {"colour": "color", "coloured": "colored", "colours": "colors", "greyish": "grey",
            "grays": "gray", "blak": "black", "whtie": "white", "sleves": "sleeves",
            "sleevless": "sleeveless", "stripped": "striped", "strips": "stripes",
            "t-shirt": "t shirt", "tshirt": "t shirt", "vneck": "v neck",
            # plural and -ish colour forms and misspellings seen in shoppers' captions
            "whites": "white", "blacks": "black", "greens": "green", "browns": "brown",
            "greys": "grey", "purples": "purple", "yellowish": "yellow", "bluish": "blue",
            "blueish": "blue", "greenish": "green", "reddish": "red", "pinkish": "pink",
            "grayish": "grey", "purplish": "purple", "whit": "white", "whte": "white",
            "whire": "white", "gren": "green", "greay": "grey", "puple": "purple",
            "burgendy": "burgundy", "fuschia": "fuchsia", "turqoise": "turquoise",
            "turquiose": "turquoise", "organge": "orange", "marron": "maroon",
            "lavander": "lavender", "colourfull": "colorful", "colorfull": "colorful"}

RELATIVE_COLOR_ADJ: dict[str, tuple[str, ...]] = {
    "darker": ("darker", "deeper", "richer", "dimmer", "duskier"),
    "lighter": ("lighter", "paler", "brighter", "softer", "fainter"),
}
RELATIVE_COLOR_PHRASE: dict[str, tuple[str, ...]] = {
    "darker": ("a darker shade", "a deeper tone", "more dark", "darker colored", "dark",
               "a darker color"),
    "lighter": ("a lighter shade", "a paler tone", "more light", "lighter colored", "light",
                "more pastel", "a lighter color"),
}
# Negated shade words the parser reads as the opposite comparative ("not so dark": lighter).
NEGATED_SHADE: dict[str, tuple[str, ...]] = {
    "darker": ("not so light", "not as light", "less light", "not so bright", "not as bright",
               "less bright", "not too bright", "less pale", "not so pale"),
    "lighter": ("not so dark", "not as dark", "less dark", "not too dark", "less deep",
                "faded", "more faded"),
}

# Patterns: adjectives ("is striped") and noun phrases ("has stripes").
PATTERN_ADJ: dict[str, tuple[str, ...]] = {
    "solid": ("solid", "plain", "solid colored", "unpatterned", "monochrome"),
    "striped": ("striped", "stripy", "pinstriped", "stripe patterned"),
    "checked": ("plaid", "checked", "checkered", "tartan", "gingham"),
    "dotted": ("dotted", "polka dot", "spotted", "dotty"),
    "floral": ("floral", "flowery", "flowered", "flower patterned"),
    "graphic": ("graphic", "printed", "logo", "graphic print"),
    "denim": ("denim", "jean", "chambray"),
}
PATTERN_NOUN: dict[str, tuple[str, ...]] = {
    "solid": ("no pattern", "no print", "a single color", "no design", "one plain color"),
    "striped": ("stripes", "horizontal stripes", "vertical stripes", "thin stripes", "lines"),
    "checked": ("a plaid pattern", "checks", "a check pattern", "a tartan print", "squares"),
    "dotted": ("polka dots", "dots", "spots", "little dots", "a dot print"),
    "floral": ("flowers", "a floral print", "a flower pattern", "roses", "a botanical print"),
    "graphic": ("a graphic", "a logo", "lettering", "a picture", "text", "writing", "a slogan",
                "a print on the front", "an image", "a cartoon"),
    "denim": ("denim", "a denim look", "jean material", "a washed denim fabric"),
}

# Sleeves: adjectives ("is long sleeved") and noun phrases ("has long sleeves").
SLEEVE_ADJ: dict[str, tuple[str, ...]] = {
    "sleeveless": ("sleeveless", "strappy", "strapless", "bare armed", "tank style"),
    "short": ("short sleeved", "short sleeve", "cap sleeved", "half sleeved"),
    "three-quarter": ("3/4 sleeved", "three quarter sleeved", "3/4 sleeve", "elbow sleeved"),
    "long": ("long sleeved", "long sleeve", "full sleeved", "long armed"),
}
SLEEVE_NOUN: dict[str, tuple[str, ...]] = {
    "sleeveless": ("no sleeves", "straps", "spaghetti straps", "no sleeve", "thin straps"),
    "short": ("short sleeves", "cap sleeves", "half sleeves", "tee sleeves", "little sleeves"),
    "three-quarter": ("3/4 sleeves", "three quarter sleeves", "elbow length sleeves",
                      "quarter length sleeves", "mid length sleeves"),
    "long": ("long sleeves", "full sleeves", "wrist length sleeves", "full length sleeves",
             "sleeves to the wrist"),
}
# More words for plain garments (parser only, like everything below that the generator
# does not read).
PATTERN_EXTRA: dict[str, tuple[str, ...]] = {
    "solid": ("plainer", "simpler", "monochromatic", "one color", "single color", "solid color",
              "no designs", "no patterns", "no prints"),
    "checked": ("checker", "checkered pattern", "checks"),
    "striped": ("stripe", "striped pattern", "pinstripes"),
    "floral": ("floral pattern", "flower print", "floral design", "florals"),
}
# Any pattern at all (negated: "less busy", "without a print" -> plain).
ANY_PATTERN = ("patterned", "has a pattern", "with a pattern", "print", "prints", "printed", "busy",
               "busier", "more patterned", "more busy", "more designs")
# Sleeves of any length ("has sleeves"; negated: sleeveless).
ANY_SLEEVE = ("sleeves", "sleeved", "with sleeves", "arms covered")
RELATIVE_SLEEVE: dict[str, tuple[str, ...]] = {
    "longer": ("longer", "fuller", "more", "long"),
    "shorter": ("shorter", "smaller", "less", "short"),
}

LENGTH_WORDS: dict[str, tuple[str, ...]] = {
    "cropped": ("cropped", "a crop top", "crop", "showing the midriff", "cut short"),
    "mini": ("mini", "very short", "above the knee", "mini length", "short length"),
    "hip": ("hip length", "regular length", "standard length", "to the hip"),
    "knee": ("knee length", "to the knee", "at the knee", "knee high"),
    "midi": ("midi", "mid length", "mid calf", "below the knee", "tea length"),
    "maxi": ("maxi", "floor length", "ankle length", "to the floor", "very long"),
    "full": ("full length", "long", "to the ankle", "long legged"),
    "ankle": ("ankle high", "ankle length", "low cut", "to the ankle"),
}
RELATIVE_LENGTH_ADJ: dict[str, tuple[str, ...]] = {
    "longer": ("longer", "more long", "less short", "longer in length", "longer in the hem"),
    "shorter": ("shorter", "more short", "less long", "shorter in length", "shorter in the hem"),
}
RELATIVE_LENGTH_NOUN: dict[str, tuple[str, ...]] = {
    "longer": ("a longer length", "a longer hemline", "a lower hem", "more coverage"),
    "shorter": ("a shorter length", "a shorter hemline", "a higher hem", "less coverage"),
}

# "Not so long" asks for shorter, not to avoid one length: read by the parser only (the
# caption generator keeps to the tables above).
NEGATED_LENGTH: dict[str, tuple[str, ...]] = {
    "longer": ("not so short", "not as short", "not too short"),
    "shorter": ("not so long", "not as long", "not too long"),
}

FIT_WORDS: dict[str, tuple[str, ...]] = {
    "slim": ("slim fit", "fitted", "form fitting", "tight", "skinny", "bodycon", "snug"),
    "regular": ("regular fit", "standard fit", "normal fit", "classic fit", "straight cut"),
    "loose": ("loose", "loose fitting", "baggy", "oversized", "relaxed fit", "flowy", "boxy"),
}
RELATIVE_FIT: dict[str, tuple[str, ...]] = {
    "tighter": ("tighter", "more fitted", "slimmer", "more form fitting", "less loose",
                "tighter fitting", "more snug", "more tailored", "closer fitting"),
    "looser": ("looser", "less fitted", "baggier", "more relaxed", "less tight", "more flowing",
               "looser fitting", "roomier", "flowier"),
}

NEGATED_FIT: dict[str, tuple[str, ...]] = {
    "tighter": ("not so loose", "not as loose", "not too loose", "less baggy", "not so baggy",
                "not as baggy", "not too baggy"),
    "looser": ("not so tight", "not as tight", "not too tight"),
}

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "tee": ("t shirt", "tee", "t-shirt", "tshirt", "tee shirt"),
    "tank": ("tank top", "tank", "sleeveless top", "cami", "vest top"),
    "top": ("top", "blouse", "tunic"),
    "shirt": ("shirt", "button up", "button down", "dress shirt", "collared shirt"),
    "sweater": ("sweater", "jumper", "pullover", "knit"),
    "hoodie": ("hoodie", "hooded sweatshirt", "hoody", "sweatshirt"),
    "blazer": ("blazer", "suit jacket", "sport coat"),
    "cardigan": ("cardigan", "cardi", "knit cardigan"),
    "jacket": ("jacket", "bomber", "windbreaker"),
    "coat": ("coat", "overcoat", "trench coat", "parka"),
    "dress": ("dress", "gown", "frock", "sundress"),
    "jumpsuit": ("jumpsuit", "one piece", "overalls"),
    "romper": ("romper", "playsuit", "short jumpsuit"),
    "trousers": ("trousers", "pants", "slacks", "chinos"),
    "jeans": ("jeans", "denims", "jean pants"),
    "shorts": ("shorts", "short pants", "bermudas"),
    "skirt": ("skirt", "a-line skirt", "pencil skirt"),
    "sneakers": ("sneakers", "trainers", "running shoes", "tennis shoes"),
    "boots": ("boots", "booties", "ankle boots"),
    "heels": ("heels", "pumps", "high heels", "stilettos"),
    "sandals": ("sandals", "flip flops", "slides"),
    "bag": ("bag", "handbag", "purse", "tote"),
    "hat": ("hat", "cap", "beanie"),
}
STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "casual": ("more casual", "less formal", "more relaxed", "sportier", "more laid back",
               "less dressy", "more everyday"),
    "formal": ("more formal", "dressier", "less casual", "more elegant", "more professional",
               "classier", "more sophisticated"),
}
STOP_WORDS = frozenset({"the", "and", "that", "are", "one", "its", "for", "this", "look"})
# Other words that show a caption asks for a change (used to tell feedback from noise).
CHANGE_WORDS = frozenset({
    "more", "less", "different", "change", "instead", "same", "similar", "but", "without",
    "with", "no", "not", "color", "colored", "pattern", "print", "sleeves", "sleeve", "length",
    "fit", "neck", "neckline", "collar", "buttons", "pockets", "belt", "hood", "shiny",
    "revealing", "sexy", "casual", "formal", "elegant", "sporty", "bright", "dark", "light",
    "darker", "lighter", "longer", "shorter", "tighter", "looser", "bigger", "smaller",
    "design", "style", "shade", "tone", "material", "fabric", "lace", "sheer", "v",
})


def vocabulary() -> set[str]:
    """Every single word of the vocabulary (for telling feedback from noise)."""
    words: set[str] = set(CHANGE_WORDS)
    tables = (COLOR_WORDS, OFF_PALETTE, RELATIVE_COLOR_ADJ, RELATIVE_COLOR_PHRASE, NEGATED_SHADE,
              {"any": ANY_PATTERN + ANY_SLEEVE}, PATTERN_EXTRA, PATTERN_ADJ, PATTERN_NOUN,
              SLEEVE_ADJ, SLEEVE_NOUN, RELATIVE_SLEEVE, LENGTH_WORDS, RELATIVE_LENGTH_ADJ,
              RELATIVE_LENGTH_NOUN, NEGATED_LENGTH, FIT_WORDS, RELATIVE_FIT, NEGATED_FIT,
              CATEGORY_WORDS, STYLE_WORDS)
    for table in tables:
        for phrases in table.values():
            for phrase in phrases:
                words.update(w for w in phrase.replace("-", " ").split() if len(w) > 2)
    for phrase in UNMAPPED_COLOR_WORDS:
        words.update(phrase.split())
    return words - STOP_WORDS
