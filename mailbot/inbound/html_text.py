"""The visible text of an HTML mail body, without the quoted mail a client wraps in it.

One pass in C (libxml2's recovering parser, then one XSLT stylesheet in libxslt): linear in the
input, and only the first ``_MOST_HTML`` characters are read. Quoted blocks (Gmail's, Thunderbird's,
``<blockquote>``, Outlook's reply header and what follows it), scripts and styles give nothing;
line breaks are kept where a browser shows them.
"""

from __future__ import annotations

import re

from lxml import etree

_MOST_HTML = 1_000_000

# Blocks a mail client wraps around the quoted mail or its own signature, by attribute.
_QUOTED_HTML = (("class", "gmail_quote"), ("class", "gmail_signature"), ("class", "moz-cite-prefix"),
                ("class", "moz-signature"), ("type", "cite"))
# Outlook puts the quoted mail after its header block, in siblings of the same parent.
_OUTLOOK_SPLIT = etree.XPath("//*[@id='divRplyFwdMsg' or @id='appendonsend']")
_OUTLOOK_IDS = re.compile("divRplyFwdMsg|appendonsend")
# A line break to keep while the white space of the text is collapsed (a private-use character).
_BREAK = "\ue000"
# The visible text, in C (libxslt): quoted blocks, scripts and styles give nothing; <br> and the
# end of a block give a line break; in <pre> the line breaks are kept.
_HIDDEN = "script|style|head|title|blockquote"
_BLOCKS = "p|div|li|tr|h1|h2|h3|h4|pre"
_TEXT = etree.XSLT(etree.XML(f"""\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="utf-8"/>
  <xsl:template match="{_HIDDEN}"/>
  <xsl:template match="{_HIDDEN}" mode="shown"/>
  <xsl:template match="br">{_BREAK}</xsl:template>
  <xsl:template match="{_BLOCKS}"><xsl:apply-templates/>{_BREAK}</xsl:template>
  <xsl:template match="{_BLOCKS}" mode="shown"><xsl:apply-templates/>{_BREAK}</xsl:template>
  <xsl:template match="*" mode="shown"><xsl:apply-templates/></xsl:template>
  <xsl:template match="*[@class or @type]" priority="2">
    <xsl:if test="not({" or ".join(
        f"contains(concat(' ', normalize-space(@{name}), ' '), ' {value} ')"
        for name, value in _QUOTED_HTML)})">
      <xsl:apply-templates select="." mode="shown"/>
    </xsl:if>
  </xsl:template>
  <xsl:template match="pre//text()">
    <xsl:value-of select="translate(., '&#10;', '{_BREAK}')"/>
  </xsl:template>
</xsl:stylesheet>"""))
_WHITE_SPACE = re.compile(r"\s+")
# libxml2's HTML parser: C, linear in the input, recovers from broken markup.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                           no_network=True)


def html_to_text(html: str) -> str:
    """Visible text of the first ``_MOST_HTML`` characters of an HTML body, without quoted blocks,
    scripts and styles. White space is shown as a browser shows it: lines are broken by <br>,
    blocks and <pre> only."""
    html = html[:_MOST_HTML].replace(_BREAK, "")
    root = etree.fromstring(html.encode("utf-8", "replace"), _PARSER)
    if root is None:
        return ""  # nothing in it
    for split in _OUTLOOK_SPLIT(root) if _OUTLOOK_IDS.search(html) else ():
        parent = split.getparent()
        if parent is not None:  # (None: already cut with an earlier one)
            del parent[parent.index(split):]
    text = _WHITE_SPACE.sub(" ", str(_TEXT(root))).replace(_BREAK, "\n")
    return "\n".join(line.strip() for line in text.splitlines()).strip()
