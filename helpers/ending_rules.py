"""The data of lesson 04's ``rules`` strategy (the algorithm is in helpers/ending.py).

Families, by what a match means; to teach the detector a phrase, add one alternative:
- ``CLOSING_RULES`` (here): ways of taking leave. Their spans are cut out of the text.
  ``closing:wrapup`` (the user's own next step, an outcome: "I'll wait for the refund") is
  weak: it ends the chat only next to another closing.
- ``MENTION_RULES``: the farewell is talked *about* (「“再见”用英语怎么说」): keep talking.
- ``REQUEST_RULES``: looked for in what is left: a question, a task, "wait": keep talking.
- ``ACK`` / ``FILLER``: words that carry no decision (好的, 嗯, 亲, really, buddy).
The last three, and the ``Rule`` type, live in helpers/ending_patterns.py.
"""
from __future__ import annotations

from .ending_patterns import (ACK, ADDRESS, FILLER, MENTION_RULES, PARTICLES, REQUEST_RULES,
                              Rule)
from .ending_patterns import END as _END
from .ending_patterns import LATER_ZH as _LATER_ZH
from .ending_patterns import NOT_TASK_EN as _NOT_TASK_EN
from .ending_patterns import PEOPLE_EN as _PEOPLE_EN
from .ending_patterns import PEOPLE_ZH as _PEOPLE_ZH
from .ending_patterns import make_rule as _rule

__all__ = ["ACK", "ADDRESS", "CLOSING_RULES", "FILLER", "MENTION_RULES", "PARTICLES",
           "REQUEST_RULES", "Rule"]

# Order matters only for the name reported: the first family that matched.
CLOSING_RULES: tuple[Rule, ...] = (
    _rule("closing:bye", zh=[
        r"再见(?![到过])|拜拜|回见|回头见|下次见|改天见|明天见|晚安|告辞|告退|下线了|(?:先|就)?挂了|再会(?!员)|后会有期",
        r"(?:^|(?<=[先我那就要得该,.!|]))(?:撤|溜|闪|遁|走|下)(?:了|咯|喽|啦)(?:撤了|溜了)*" + _END,
        r"(?<![^,.!~|])拜" + _END + r"|再(?:聊|联系)" + _END,                # 拜 alone; 明天再聊
        r"(?:^|(?<=[,.!~|那我先要得该]))(?:我|那我)?(?:先|要|得|该)?去?(?:睡|睡觉|吃饭|上班|上课|开会"
        r"|忙|洗澡)(?:去)?了" + _END,                                       # off to another activity
        r"(?:(?:回头|改天|下次|下回|有空)再(?:联系|聊|来|说)|再联系|有(?:问题|需要|事)再来?(?:找|问|联系|来))"
        r"(?:找|问)?(?:你|您|你们)?(?:玩|聊)?"                                  # 下次再来找你
        r"|不(?:打扰|麻烦)(?:你|您|你们)?了|(?:早点|好好|注意)休息",
        r"(?:先|我|那我)+ ?(?:offline|log ?out|log ?off|sign ?off|下线)(?: 了|了)",       # 先 offline 了
        r"祝(?:你|您|你们)[^,.!?]{0,10}(?:愉快|顺利|开心|快乐|好运|一天)|(?:^|(?<=[,.!~|]))祝(?:你|您|你们|大家)"
        r"[\u4e00-\u9fff]{2,8}" + _END,                                     # a wish closes
    ], en=[
        r"\b(?:good ?bye|bye|farewell|so long(?! as)|adios|ciao|sayonara|syonara|ttyl|ttfn|cya|toodles)\b",
        r"\bta[- ]?ta\b|^(?:best |kind |warm )?regards\b|^peace(?: out)?!?$|\bpeace out\b",
        r"\b(?<!to )see (?:you|ya)\b(?: later| soon| around| next time| tomorrow| then)?",
        r"\b(?:talk|speak|chat|catch) (?:to |with )?(?:you |ya )?(?:later|soon|again|around|next time|tomorrow)\b",
        r"(?<![^,.!;|])laters?" + _END + r"|^later\b",
        r"\btake (?:care|it easy)\b(?! of)|\bgood ?night\b",
        r"\b(?:have a|enjoy (?:the|your)(?: rest of (?:the|your))?) (?:(?:good|nice|great|lovely|wonderful|fantastic) )?"
        r"(?:one|day|night|evening|weekend"
        r"|afternoon|time)\b",
        r"(?:\bi(?:'ve| have)? |^)(?:have to|must|need to|got to|gotta|should|better) (?:go|leave|run|get going"
        r"|head out|bounce|jet|dash|fly|split|take off)(?: now| soon)?" + _END,
        r"\bi(?:'m| am|'ll be| will be) (?:leaving|heading out|off|going|out|logging off|logging out|signing off)"
        r"(?: now| then)?" + _END + r"|\b(?:heading|going|off) to (?:bed|sleep)" + _END
        + r"|\b(?:going to|gonna|off to) (?:go )?(?:eat|sleep|bed|have (?:lunch|dinner))(?: now)?" + _END,
        r"\b(?:gotta (?:go|run|bounce|dash|fly)|(?:out of|outta) here|signing off|until next time|till next time)\b",
    ]),
    _rule("closing:done", zh=[                                        # nothing more to ask
        r"(?:没有|没|无)(?:别的|其他|其它|什么|啥|任何)*(?:需要|要|想)?(?:帮忙|帮助|问|买)?的?"
        r"(?:问题|事(?:情|儿)?|需要|需求|要求)?(?:了|啦)(?!解)",
        r"没有(?:别的|其他|其它|任何)(?:问题|事(?:情|儿)?|需要|需求|要求)|(?:没有|没)(?:什么|任何)?疑问了",
        r"不(?:需要|用|要)(?:(?:什么|别的|其他|其它)*(?:帮助|帮忙)?(?:了|啦)|(?=$|[,.!~|谢]))|不必了"
        r"|(?:^|(?<=[,.!~|就先还]))不了|没事了|算了|不(?=[,.!]?谢)|再也不[\u4e00-\u9fff]{0,8}?了"
        r"|(?:不(?:想|要|用|再|会)*|懒得)(?:跟|和|同)?(?:你|你们|您)?(?:问|聊|买|看|弄|搞|咨询|说|管|理|等|浪费时间|扯)了"
        r"|不(?:需要|用|要)(?:你|你们|您)了|(?:我)?放弃了" + _END + r"|不(?:指望|期待)(?:你|你们|您)?了"
        r"|没(?:有)?(?:必要|意思)(?:再)?(?:聊|说|谈|问)(?:下去)?了|不(?:用|必|需要)(?:再)?(?:回复|回)(?:我)?了",                                 # angry exits: 不想跟你说了
        r"(?:就|只)问(?:这个|这些)|(?:就|只)先?(?:问|聊|说|买|看|需要|要|想知道|是)?"
        r"(?:这些|这么多|这样|这么着|到这(?:里|儿)?)(?:了|吧|啦)?|先这样",
        r"(?:需要|要问|想问|想知道|要买)的[^,.!?]{0,4}?(?:就|只)?是?(?:这些|这么多)"
        r"|(?:就|是)(?:我的)?(?:全部|所有)的?(?:需求|问题|需要)",
        r"(?:这|那)(?:些)?(?:就|正|正好|刚好|也)?是(?:我|我们)[^,.!?]{0,6}?"
        r"(?:需要|想要|想知道|要找|要|想问)[^,.!?]{0,3}?的",
        r"(?:足?够|可以|行)了|(?:问|说|聊)完了|搞定(?:了|啦)?|解决了|没问题(?:了|啦)|(?<![^,.!~|])(?:ok|好)(?:了|啦)" + _END + "|什么都不(?:需要|用|要)了?",
        r"(?:都|已经)+(?:帮我|为我|给我)?[\u4e00-\u9fff]{0,4}?(?:过|好)了",   # 都帮我查过了
        r"(?<![不没])(?:知道|明白|了解|清楚|懂|记下|记住|记下来|记好)(?:了|啦|咯|喽)",     # 好的我知道了
        r"(?<![不没])(?:明白|懂|收到)" + _END,
    ], en=[
        r"\bthat(?:'s| is| was| will be| would be|'ll be|'ll) (?:all|it|everything|enough|do)\b"
        r"(?: (?:that )?i (?:need|needed|want|wanted|have|had)(?: to (?:know|ask))?)?"
        r"(?: for (?:now|today|the day))?",
        r"\bthat should (?:be it|be all|be everything|do it|do)\b|\bthat(?:'s| is) (?:exactly |just )?what i (?:need|needed|wanted|was looking for)\b",
        r"(?<![^,.!;|])(?:there's |there is )?(?:nothing|no) (?:else|more|further)\b(?: for (?:now|today))?",
        r"\b(?:i've got |i have |there's )?nothing (?:more|else|further) to (?:say|add|discuss)\b|\bwe(?:'re| are) (?:finished|through)\b"
        r"|\b(?:i'm|i am) not (?:discussing|talking about|arguing about|continuing) (?:this|it|that)\b"
        r"|\bno point (?:in )?(?:continuing|talking|chatting|discussing)\b|\b(?:you can )?stop (?:messaging|texting|replying to) me\b"
        r"|\b(?:you )?(?:don't|do not) need to (?:do anything|reply|respond)\b|\bno need to (?:reply|respond|answer)\b"
        r"|\b(?:clearly |obviously )?you (?:can't|cannot) help(?: me)?" + _END +
        r"|\bi (?:won't|will not|will never) (?:order|buy|shop)\b[^,.!?|]{0,25}? again\b|\bthat's that\b"
        r"|\bthat's me (?:done|sorted|finished)\b|\b(?:i'll|let's|we'll) leave it (?:there|at that)\b",
        r"\bi (?:don't|do not|won't|will not) (?:need|have) anything (?:else|more)\b"
        r"|\b(?:don't|won't) think (?:there's|i need) anything (?:else|more)\b"
        r"|\b(?:no|(?:don't|won't) (?:have|need) any|not any) (?:more |further |other |additional )?questions\b",
        r"\b(?:that|you(?:'ve| have)?) answer(?:s|ed) (?:it|that|(?:all )?my questions?|everything)\b|\b(?:problem|issue|all|everything) (?:solved"
        r"|sorted|fixed|resolved)\b|(?<!until )(?<!unless )(?<!once )(?<!when )(?<!if )\b(?:that|this|it)(?:'s| is| has)? (?:resolves|solves|fixes|sorts|resolved|solved|fixed"
        r"|sorted)(?: (?:it|that|things|my (?:issue|problem)|everything))?(?: then| now)?" + _END + r"|\bi(?:'ve)? got (?:what i (?:need|needed|wanted)|everything i need)\b",
        r"\bi(?:'m| am) (?:all )?(?:done|set|good|finished|fine)(?: here| now| for (?:now|today)| then| with (?:this|you|it)"
        r"(?: people| guys)?| with (?:this|the|your) (?:store|shop|chat|place|company))?" + _END
        + r"|\ball (?:set|done)\b|(?<![^,.!;|])(?:all good|done)(?: now)?" + _END +
        r"|\bwe(?:'re| are) (?:all )?(?:done|good|set|fine now)\b|(?<![^,.!;|])done here" + _END,
        r"\bno,? thanks\b|\bno,? thank you\b|\bthat covers (?:it|everything)\b",
        r"\b(?:forget (?:it|i asked|about it)|never mind|i give up|no worries|no need)\b"
        r"|\bdon't bother(?: (?:replying|answering|responding))?" + _END +
        r"|(?<![^,.!;|])(?:ok |okay |alright )?(?:got it|understood|noted|(?:all )?sorted)" + _END,
    ]),
    _rule("closing:leave", zh=[                                       # I'll decide later, elsewhere
        r"(?:再|回去|自己|先)*(?:考虑|纠结|想想|琢磨|商量)(?:一下|下)?(?:再决定)?(?:买|选|要|订|续)?(?:哪|要不要|是否)"
        r"[\u4e00-\u9fff]{0,6}" + _END + r"|(?<![^,.!~|])(?:那|就)?(?:以后)?再说(?:吧|了)" + _END,  # 考虑一下买哪款
        r"(?:再|回去|自己)+(?:考虑|想想|想一想|商量|研究|琢磨|对比|比较|比比|think|consider)(?:考虑|一下|下)?"
        r"|^(?:我|那我)?先?考虑(?:一下|下)?(?:吧|再说)?" + _END,
        r"(?:再|先|自己|随便)+(?:去)?(?:别家|别处|别的店|其他家)?(?:看看|逛逛|转转)(?:吧|再说)?" + _END
        + r"|去(?:别家|别处|别的店|其他家)(?:看看|逛逛|买)?(?:了|吧)?" + _END
        + r"|去[^,.!?|什么哪几怎吗呢]{0,12}?(?:营业厅|实体店|门店|线下|柜台)[^,.!?|什么哪几怎吗呢]{0,6}?(?:看看|问问|问一下|办一下|办|买)(?:吧|了)?" + _END,
        rf"(?:再)?(?:问问|问一下|和|跟|同|找){_PEOPLE_ZH}(?:商量|说|问问|讨论)?(?:一下|下)?(?:吧|{_LATER_ZH})?"
        + _END,
        rf"(?:等(?!一?下|等|会)|回头|以后|下次|改天|到时候?|先)[^,.!?|]{{0,10}}?{_LATER_ZH}" + _END,   # 等快递到了再说
        r"(?:回头|以后|下次|改天)(?:再)?(?:说|看|买)(?:吧)?" + _END,
        r"自己(?:想办法|想想办法|解决|处理|搞定|弄|来)(?:吧|了)?" + _END,            # I'll manage myself
    ], en=[
        rf"\bi(?:'ll|'m gonna|'m going to) (?:just )?(?:go ahead and )?{_NOT_TASK_EN}[a-z']+\b[^,.!?|]{{0,40}}? then"
        + _END,
        r"\b(?:i'll|i will|let me|i need to|i want to|i'd like to) (?:just )?(?:think (?:it over|about it)"
        r"|sleep on it|look around|poke around|browse|shop around)(?: (?:the|this) (?:site|app|store|shop))?"
        r"(?: a bit| myself| on my own| first| more| for a bit)*(?: and (?:decide|choose|pick)\b[^,.!?|]{0,30})?"
        r"(?: and (?:maybe )?(?:come|check|get) back(?: to you)?(?: later)?)?" + _END,
        rf"\b(?:i'll|let me|i need to|i have to|i should|i'm gonna|i'm going to|gonna) (?:ask|check with"
        rf"|talk to|talk it over with|run it by|discuss it with) {_PEOPLE_EN}(?: about it)?(?: first)?"
        rf"(?:(?: and|,)? (?:maybe )?(?:i'll )?(?:get|come|check) back(?: to you)?(?: later)?)?" + _END,
        r"\bi(?:'ll|'m gonna|'m going to|can) (?:just )?(?:figure it out|deal with it|handle it|sort it out"
        r"|manage|take it from here|try (?:that|it|this)(?: out)?|give (?:it|that|this) a (?:try|go|shot)|pass)"
        r"(?: myself| on my own| from here| then| for now)*" + _END,              # I'll manage myself
        r"\b(?:i'll|and) (?:come|check) back(?: later| another time| tomorrow)?(?: (?:if|when) [^,.!?|]{0,30})?"
        + _END
        + r"|^maybe (?:later|another time|next time)\b"
        + r"|\bi(?:'ll| will) be back\b|\b(?:just )?(?:browsing|looking around)" + _END
        + r"|\bi(?:'ll| will) (?:go|shop|buy it|look|check) (?:somewhere else|elsewhere|other (?:shops|stores|sites))\b"
        + r"|\bjust looking\b",
    ]),
    _rule("closing:wrapup", zh=[                                      # weak: only next to another closing
        r"(?:那我|我就|我先|我去|那就|我这就)(?:先|就|去|再)*(?:下单|付款|拍|买|试试|试一下|等|收货|量|去)[^,.!?|]{0,8}?"
        r"(?:了|吧|咯|啦)?" + _END,                                           # 那我先下单了
        r"我(?:一定|会|肯定|到时候?)+[\u4e00-\u9fff]{1,8}?的" + _END,            # 我会按时去的
        r"(?:我|都)?(?:已经)?(?:看到|收到|找到|提交|弄好|填好|付好|搞懂|订好|办好|到账|到手)了" + _END,
        r"(?:我|那我)(?:就)?(?:自己|直接|亲自)(?:去|来|打电话|跑一趟)[^,.!?|什么哪几怎吗呢]{0,10}?(?:吧|了)?" + _END,     # 物流信息我看到了
    ], en=[
        rf"\bi(?:'ll|'m gonna|'m going to) (?:just )?(?:go ahead and )?{_NOT_TASK_EN}[a-z']+\b[^,.!?|]{{0,40}}",
        r"\b(?:submitted|received|arrived|(?:i )?see (?:it|them|the \w+) now)" + _END,
        r"(?<![^,.!;|])(?:no,? )?not (?:at (?:the|this) (?:moment|time)|right now|for now|today)" + _END,
        r"\bthat(?:'s| was)? (?:really |very |super |so )?(?:helps?|helpful|useful)(?: a lot| a ton)?" + _END,
    ]),
    _rule("closing:pleasant", zh=[                                    # 聊得很开心 / nice talking to you
        r"(?:你|您|你们)?的?(?:服务|态度|回答|解答|介绍)(?:真|太|很|非常|特别|挺)?"
        r"(?:好|棒|到位|周到|专业|耐心|给力|贴心|详细)(?:了|啦)?",                  # praise of the service
        r"(?:给|打)(?:你|你们|您)?个?(?:五星|好评|满分)|(?:聊得|谈得)(?:很|真|挺|非常)?(?:开心|愉快)|(?:跟|和|与)(?:你|您)(?:聊天|交谈|聊)(?:很|真|挺|非常)?"
        r"(?:开心|愉快)",
    ], en=[
        r"\b(?:nice|good|great|lovely|fun|awesome|cool|pleasant|wonderful|enjoyable|pleasure|fantastic|glad"
        r"|enjoyed)\b[^,.!?]{0,25}?\b(?:talking|chatting|speaking|conversing|talked|chatted|spoke"
        r"|seeing you|catching up|catch up|to (?:talk|chat|speak|converse|get in touch)|talk|chat"
        r"|conversation)\b",
        r"\byou(?:'re|r)? (?:the best|a (?:star|lifesaver|legend|gem))\b|\byou(?: guys| all)?(?:'re| are)? (?:rock|amazing|awesome|brilliant|stars)" + _END + r"|\byou(?:'ve)? (?:saved|made) (?:me|my)\b",
    ]),
    _rule("closing:command", zh=[
        r"^(?:结束|退出)(?:对话|聊天|会话)?$|不聊了|聊到这(?:里|儿)?|先聊到这",
        r"(?:^|(?<=[,.!~|]))(?:那|就)?(?:结束|到此为止)(?:吧|了吧)" + _END,           # 无语，结束吧
    ], en=[
        r"^(?:exit|quit)$|\bend (?:the |this |our )?(?:chat|conversation|session)\b",
    ]),
    _rule("closing:thanks", zh=[
        r"(?:感谢|谢谢|谢啦|谢了|多谢|感激|感恩(?!节)|谢)(?:你|您|你们)?(?:今天|刚才|一直以来)?"
        r"(?:[\u4e00-\u9fff]{1,3}的|的)?"                                  # 感谢您提供的信息
        r"(?:(?:帮助|帮忙|耐心|时间|服务|解答|协助|介绍|信息|推荐|建议|支持|提醒|解释|陪我(?:聊天|聊)?)(?:和|与|及|,)?)*"
        r"(?:了|啦|啊|呀)?",
        r"辛苦(?:你|您)?(?:了|啦|(?=$|[,.!~]))|麻烦(?:你|您)?(?:了|啦)|(?:你|您)?(?:真是)?帮了?(?:我)?(?:一个|个)?大忙(?:了|啦)?",
    ], en=[
        r"\b(?:thank(?:s| you)|ta|many thanks|much appreciated|(?:much )?obliged|appreciate (?:it|that|your help)|cheers)\b"
        r"(?: (?:so|very) much| a lot| a ton| again| kindly)*(?: for [a-z]+ing(?: (?:that|it|this|me|us|everything))?"
        r"(?: out| up)?(?=$|[,.!;|]))?"
        r"(?: for (?:(?:the|your|all|our|this|of|everything) )*(?:help|time|patience|information|info"
        r"|assistance|advice|chat|chatting|talk|talking|conversation|support|everything)\b)?",
        r"\byou(?:'ve| have) been (?:\w+ )?(?:helpful|(?:a |such a )?(?:\w+ )?help)\b",
    ]),
)
