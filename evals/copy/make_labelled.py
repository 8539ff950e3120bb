"""Writes evals/copy/data/labelled.jsonl from the hand-written lines below (run once;
the JSONL is the dataset, this file is how it was typed in). Real model outputs are
appended by hand-labelling evals/copy/data/model_outputs.jsonl.

Each row: {"kind", "text", "sendable", "reason", "context", "source"}; reason is one of
ok, keyword_list, fragment, echo_of_context, generic_filler, awkward, off_voice,
invented_claim. ``context`` is the interests line the prompt carried (for echo).
"""

from __future__ import annotations

import json
from pathlib import Path

CTX = ["christmas", "jumbo bags", "home decor", "party supplies", "tea time", "vintage"]

OK = {
    "subject_line": """Fresh bunting for your next garden party
A little something for the tree this year
Tea for two, and a cake stand to match
Lanterns for the long evenings ahead
Your windowsill has been waiting for this
Wrap it beautifully this Christmas
A new mug for your morning cuppa
The kettle's on, and the new cups are in
Bring a little colour to Monday's lunch
Paper chains, party hats and plenty of cake
Ready for the school fair? We are too
Something pretty for the kitchen shelf
Small gifts that say a big thank you
Light up the garden for summer evenings
Our favourite finds for a cosy weekend
Stockings, baubles and a little bit of sparkle
Time to top up the tealights
Running low on wrapping paper?
Gifts for the friend who has everything
A birthday party in a box, almost
Make room for a little vintage charm
The prettiest way to carry your lunch
New cushions have just landed
Christmas crackers that are worth pulling
We kept the kettle on for you
A fresh start for the spare room
Give the dresser a little love this weekend
Sweet treats deserve a sweet tin
Teatime, the way your nan would approve of
Bake something lovely this weekend
A handful of new arrivals, picked for you
Your next housewarming gift, sorted
Hang a heart by the door this winter
Spring cleaning, with a bit of style
Planning a picnic? Start with the basket
The cosiest corner of the house starts here
Little jars for big kitchen ideas
A card and a candle, and the job is done
For the long walk home, a bigger bag
Everything for the party, except the guests""".splitlines(),
    "preheader": """Paper flags and paper plates, ready for sunny weekends.
Glass baubles and wooden stars, wrapped with care.
Three tiers of pretty, for scones and the odd biscuit.
Warm light for the window, the table and the garden path.
Wipe-clean, roomy and covered in polka dots.
New rolls of paper and matching tags are in.
Soft linens and bold florals for the sofa.
We have saved a few of our favourite finds for you.
Small surprises for birthdays and just-because days.
Handpicked by our team, and wrapped on request.
The same soft glow you liked last time, in bigger packs.
Plenty of room for the weekly shop, and it folds flat.
Our new tins keep the biscuits crisp till Sunday.
Enamel and tin, with a wink of old-fashioned charm.
A pretty mug and a packet of tea make a lovely thank you.
Everything you need to set a table for eight.
From fairy lights to candle holders, all in one place.
Our Christmas shop is open, with new decorations every week.
Classic designs, made to last for years of Christmases.
Delivery is free on orders over fifty pounds.""".splitlines(),
    "hero": """Make the table the heart of the home
Gifts that feel hand-picked, because they were
Vintage charm for every shelf and windowsill
Deck the halls, one bauble at a time
Lunch, but make it cheerful
Just arrived, and already our favourites
Welcome back, we saved you a seat
Everything you need to wrap the next gift
A party worth remembering starts here
Little lights for long winter nights
Bring the garden party indoors
The kitchen, with a little more charm
Cosy up the living room for winter
Small things that make a house a home
Tea time, done properly
Christmas, wrapped and ready
Thoughtful gifts for every occasion
A fresh look for your favourite room
Pretty storage for a tidier home
Your home, a little more you""".splitlines(),
}

BAD = {
    "keyword_list": """A new bag, big bags, christmas, jumbo bags
Home Decor, Christmas, assorted colour bird ornament
Party supplies, home decor, alarm clock, green
Housewarming gift, new winter season gift pick
Christmas, jumbo bags, home decor
Tea time, vintage, kitchen, cake stand
Lunch bags, retrospot, red, kitchen
Candles, lanterns, christmas lights
Garden, bunting, party, summer
Wall art, signs, vintage, metal
Stationery, party, children's toys
Jumbo Bag Red Retrospot, Lunch Bag Black Skull
Gift wrap, ribbons, tags and cards
Home decor | christmas | party
Vintage, Tea Time, Regency, Cake Stand, Roses
Christmas decorations, baubles, ornaments, stars
Kitchen storage, jars, tins, baking
New season, gift picks, home, decor
Cushions, throws, blankets and lights
Heart decorations, hanging hearts, wooden hearts
Party bags, party cups, party plates
Bird ornament, assorted colour, home decor
Alarm clock bakelike, green, red, ivory
Retrospot, polka dot, spotty, red
Doormat, garden, home sweet home
Christmas, Christmas, gifts, jumbo bags
Toys, games, children, party
Lanterns, t-light holders, candles
Baking set, cake cases, tea time
Bunting, flags, garden party, summer""".splitlines(),
    "fragment": """Gifts for the
A little something for your
Fresh bunting for
The tree is up, now for the
Your kitchen called, it
Tea for two, in roses and
Little lanterns, long
For the home and
Our new season gift
Running low on
Make the table the
Welcome back to the
A gift that
New arrivals for your home and
Christmas is
Just for
Bags for your next long weekend shopping
Everything you need to wrap the
Time to top up the
Because you love""".splitlines(),
    "echo_of_context": """Because you like christmas, jumbo bags and home decor
Customer likes: tea time, vintage
We know you like party supplies and home decor
Christmas jumbo bags home decor for you
Your favourite themes: christmas and jumbo bags
Interests: vintage tea time kitchen
Jumbo bag red retrospot for your christmas home decor
Our new season gift picks: party supplies and home decor
Home decor for a customer who often buys home decor
Campaign: our new season gift picks
Tea time and vintage, just like you like
Christmas and jumbo bags, picked for you from your history
Party supplies, because you bought party supplies
Assorted colour bird ornament, as you bought before
Since you often buy candles and lanterns, here are candles and lanterns
Based on your interest in jumbo bags""".splitlines(),
    "generic_filler": """Check out our latest products
Great deals on great items
Shop our collection today
New products available now
Don't forget to visit our website
Something for everyone
Our products are the best
Items you might like
Browse our range of products
See what's new in store
Click to see more items
The best selection of goods
Quality products at good prices
Find what you need today""".splitlines(),
    "awkward": """A gift for the weekend, a gift for the week
The gift-maker's house, home decoration, garden party
You bags for christmas is here now
Gift of the the season for you
Bags bags bags for your bags
Tea for two tea for two tea for two
Your home the decor it wants is new
Christmas the tree of the lights
Make a happy the table with lanterns
A lovely of cushions for lovely home
Shopping your next the christmas gift
Welcome you to we have new items
Is here the party supplies for you
Lunch bag to bag the lunch
Get yours gifts now for home happily""".splitlines(),
    "off_voice": """HUGE SALE!!! Don't miss out
OMG these bags are insane
Buy now before it's gone forever
Last chance!!! Everything must go
Epic Christmas deals you won't believe
Hurry, act now, limited time only
You NEED this in your life
Shop till you drop this weekend
The most killer gifts of the year
Grab these before your friends do, lol
WINTER MEGA BLOWOUT
Yo, check out our fresh stuff
Unmissable deals, click here""".splitlines(),
    "invented_claim": """Half price on everything this weekend only
Free delivery on every order, forever
Voted the UK's best gift shop
Our bags are 100% recycled and carbon neutral
Your free gift is waiting at checkout
Save 40% on all Christmas decorations
Handmade in Cornwall by local artisans
Guaranteed delivery by Christmas Eve
Every customer gets a free mug this week
As seen on BBC Breakfast
Exclusive members-only discount inside
Win a hamper worth £500""".splitlines(),
}


def rows() -> list[dict]:
    out = []
    for kind, lines in OK.items():
        for t in lines:
            out.append({"kind": kind, "text": t, "sendable": True, "reason": "ok",
                        "context": CTX, "source": "written"})  # fmt: skip
    for reason, lines in BAD.items():
        for i, t in enumerate(lines):
            kind = "hero" if i % 4 == 3 else "subject_line"
            out.append({"kind": kind, "text": t, "sendable": False, "reason": reason,
                        "context": CTX, "source": "written"})  # fmt: skip
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("data") / "labelled.jsonl"
    path.parent.mkdir(exist_ok=True)
    data = rows()
    path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    print(len(data), "rows ->", path)
