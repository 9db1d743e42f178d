"""Translations of the citizen-facing Vietnamese strings into English and Chinese (simplified).

Applied to the .po files by ``python oa_platform/locale/translations_web.py`` after ``make messages``; the
compiled .mo files are committed so nothing is needed at run time. Strings not listed here stay as they are
in the .po files (translators can fill them there).
"""

# msgid (Vietnamese source) -> (English, Chinese)
WEB = {
    "Xin chào! Bạn cần hỏi gì về thủ tục của %(name)s?": (
        "Hello! What would you like to ask %(name)s about?",
        "您好！请问您想咨询%(name)s的哪项业务？",
    ),
    "Rất vui được hỗ trợ bạn!": ("Glad to help!", "很高兴为您服务！"),
    'Bạn có thể hỏi về: %(topics)s. Gõ "gặp nhân viên" để nói chuyện với cán bộ.': (
        'You can ask about: %(topics)s. Type "talk to staff" to chat with a staff member.',
        "您可以咨询：%(topics)s。输入“人工客服”与工作人员对话。",
    ),
    "Đã đăng ký nhận thông báo: %(topic)s.": ("Subscribed to notices: %(topic)s.", "已订阅通知：%(topic)s。"),
    "Bạn đã theo dõi %(name)s.": ("You are following %(name)s.", "您已关注%(name)s。"),
    "Bạn chưa đăng ký nhận thông báo nào.": ("You have not subscribed to any notices.", "您尚未订阅任何通知。"),
    "Đã huỷ nhận thông báo: %(topic)s.": ("Unsubscribed from notices: %(topic)s.", "已取消订阅通知：%(topic)s。"),
    'Đã huỷ tất cả thông báo. Gõ "đăng ký" kèm chủ đề để nhận lại.': (
        'All notices cancelled. Type "subscribe" and a topic to receive them again.',
        "已取消全部通知。输入“订阅”加主题即可重新接收。",
    ),
    "Bạn muốn hỏi:": ("Did you mean:", "您是想问："),
    "Xin lỗi, tôi chưa có câu trả lời cho câu hỏi này. Câu hỏi đã được chuyển tới cán bộ. "
    'Bạn có thể hỏi về: %(topics)s. Gõ "gặp nhân viên" để nói chuyện với cán bộ.': (
        "Sorry, I don't have an answer to this question yet. It has been passed on to our staff. "
        'You can ask about: %(topics)s. Type "talk to staff" to chat with a staff member.',
        "抱歉，暂时无法回答这个问题，已转交工作人员。您可以咨询：%(topics)s。输入“人工客服”与工作人员对话。",
    ),
    "Hiện ngoài giờ làm việc; cán bộ sẽ trả lời bạn sớm nhất có thể.": (
        "It is outside office hours; staff will answer you as soon as possible.",
        "现在是非工作时间，工作人员会尽快回复您。",
    ),
    "Hiện ngoài giờ làm việc (%(hours)s). Cán bộ sẽ trả lời bạn từ %(time)s %(weekday)s, %(date)s.": (
        "It is outside office hours (%(hours)s). Staff will answer you from %(time)s on %(weekday)s, %(date)s.",
        "现在是非工作时间（%(hours)s）。工作人员将于%(date)s %(weekday)s %(time)s起回复您。",
    ),
    "Đã chuyển cuộc trò chuyện tới cán bộ. Cán bộ sẽ trả lời bạn tại đây.": (
        "Your conversation has been passed to a staff member, who will answer you here.",
        "对话已转交工作人员，工作人员将在此回复您。",
    ),
    "Cuộc trò chuyện đã được chuyển tới cán bộ. Cán bộ sẽ trả lời bạn tại đây.": (
        "The conversation is with a staff member, who will answer you here.",
        "对话已转交工作人员，工作人员将在此回复您。",
    ),
    "Cán bộ đã kết thúc hỗ trợ. Trợ lý tự động sẽ tiếp tục trả lời bạn.": (
        "The staff member has finished. The automatic assistant will answer you again.",
        "工作人员已结束服务，自动助手将继续为您解答。",
    ),
    "Cảm ơn bạn đã theo dõi %(name)s. Hãy gửi câu hỏi của bạn.": (
        "Thank you for following %(name)s. Send us your question.",
        "感谢关注%(name)s。请发送您的问题。",
    ),
    # the citizen page and home page
    "Theo dõi": ("Follow", "关注"),
    "Bỏ theo dõi": ("Unfollow", "取消关注"),
    "Đang theo dõi": ("Following", "已关注"),
    "Câu trả lời có hữu ích không?": ("Was this helpful?", "这个回答有帮助吗？"),
    "Cảm ơn bạn đã góp ý!": ("Thank you for your feedback!", "感谢您的反馈！"),
    "Đã lưu.": ("Saved.", "已保存。"),
    "Có lỗi xảy ra, vui lòng thử lại.": ("Something went wrong, please try again.", "出错了，请重试。"),
    "Mất kết nối, đang kết nối lại…": ("Connection lost, reconnecting…", "连接已断开，正在重新连接…"),
    "Đang dùng chế độ dự phòng.": ("Using the fallback connection.", "正在使用备用连接。"),
    "Bạn gửi quá nhanh, vui lòng đợi một chút.": (
        "You are sending too fast, please wait a moment.",
        "发送过于频繁，请稍候。",
    ),
    "Cán bộ": ("Staff", "工作人员"),
    "— Cả tỉnh/thành phố —": ("— Whole province/city —", "— 全省/市 —"),
    "Hãy theo dõi tài khoản để chọn thông báo muốn nhận.": (
        "Follow the account to choose which notices you receive.",
        "关注该账号后即可选择接收哪些通知。",
    ),
    "Hãy theo dõi tài khoản trước khi chọn thông báo.": (
        "Follow the account before choosing notices.",
        "请先关注该账号再选择通知。",
    ),
    "Hiện tại:": ("Current:", "当前："),
    "Có": ("Yes", "是"),
    "Không": ("No", "否"),
    "Không tìm thấy tài khoản.": ("Account not found.", "未找到该账号。"),
    "Số điện thoại không hợp lệ.": ("Invalid phone number.", "电话号码无效。"),
    "Hỏi đáp": ("Chat", "咨询"),
    "Thông báo": ("Notices", "通知"),
    "Cài đặt": ("Settings", "设置"),
    "Câu hỏi của bạn": ("Your question", "您的问题"),
    "Nhập câu hỏi…": ("Type your question…", "请输入您的问题…"),
    "Gửi": ("Send", "发送"),
    "Chưa có thông báo nào.": ("No notices yet.", "暂无通知。"),
    "Chủ đề thông báo": ("Notice topics", "通知主题"),
    "Khu vực": ("Area", "地区"),
    "Tỉnh/thành phố": ("Province/city", "省/市"),
    "— Không chọn —": ("— None —", "— 不选择 —"),
    "Phường/xã (không bắt buộc)": ("Ward/commune (optional)", "坊/社（可选）"),
    "Lưu": ("Save", "保存"),
    "Số điện thoại nhận tin nhắn SMS (không bắt buộc)": (
        "Phone number for SMS notices (optional)",
        "接收短信通知的电话号码（可选）",
    ),
    "Lưu số điện thoại": ("Save phone number", "保存电话号码"),
    "Tài khoản chính thức": ("Official Accounts", "官方账号"),
    "Ngôn ngữ": ("Language", "语言"),
    "Đổi": ("Change", "切换"),
    "Tài khoản chính thức của cơ quan nhà nước": ("Official Accounts of public agencies", "政府机关官方账号"),
    "Theo dõi một cơ quan để hỏi đáp thủ tục và nhận thông báo.": (
        "Follow an agency to ask about procedures and receive its notices.",
        "关注机关账号，咨询办事流程并接收通知。",
    ),
    "Chưa có tài khoản nào.": ("No accounts yet.", "暂无账号。"),
}

# English-source strings a citizen sees (language names) -> (Vietnamese, Chinese)
FROM_ENGLISH = {
    "Vietnamese": ("Tiếng Việt", "越南语"),
    "English": ("Tiếng Anh", "英语"),
    "Simplified Chinese": ("Tiếng Trung giản thể", "简体中文"),
}


def _unquote(lines: list[str]) -> str:
    return "".join(line.strip()[1:-1] for line in lines).encode().decode("unicode_escape").encode("latin-1").decode()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def apply(po_path, column: int | None, english_column: int | None) -> int:
    """Fill msgstr of known msgids in one .po file; returns how many were filled."""
    from pathlib import Path

    lines = Path(po_path).read_text(encoding="utf-8").split("\n")
    out: list[str] = []
    filled = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("msgid ") and not line.startswith('msgid ""\nmsgstr'):
            block = [line[6:]]
            j = i + 1
            while j < len(lines) and lines[j].startswith('"'):
                block.append(lines[j])
                j += 1
            msgid = _unquote(block)
            translation = None
            if column is not None and msgid in WEB:
                translation = WEB[msgid][column]
            elif english_column is not None and msgid in FROM_ENGLISH:
                translation = FROM_ENGLISH[msgid][english_column]
            if translation and j < len(lines) and lines[j].startswith("msgstr "):
                k = j + 1
                while k < len(lines) and lines[k].startswith('"'):
                    k += 1
                if out and out[-1].startswith("#, fuzzy"):
                    out.pop()
                out.extend(lines[i:j])
                out.append("msgstr " + _quote(translation))
                filled += 1
                i = k
                continue
        out.append(line)
        i += 1
    Path(po_path).write_text("\n".join(out), encoding="utf-8")
    return filled


if __name__ == "__main__":
    from pathlib import Path

    here = Path(__file__).resolve().parent
    print("en", apply(here / "en/LC_MESSAGES/django.po", 0, None))
    print("zh_Hans", apply(here / "zh_Hans/LC_MESSAGES/django.po", 1, 1))
    print("vi", apply(here / "vi/LC_MESSAGES/django.po", None, 0))
