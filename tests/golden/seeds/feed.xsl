<?xml version="1.0" encoding="UTF-8"?>
<!-- What a browser shows when a feed (Atom or RSS) is opened in it: a readable page that
     says what a feed is and how to subscribe, and lists the posts. Feed readers ignore it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>
  <xsl:variable name="title">
    <xsl:value-of select="/atom:feed/atom:title"/>
    <xsl:call-template name="text"><xsl:with-param name="s" select="/rss/channel/title"/></xsl:call-template>
  </xsl:variable>
  <xsl:variable name="self" select="(/atom:feed/atom:link[@rel='self'] | /rss/channel/atom:link[@rel='self'])[1]/@href"/>
  <xsl:variable name="home" select="(/atom:feed/atom:link[not(@rel) or @rel='alternate'])[1]/@href | /rss/channel/link"/>
  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>
          body { font: 1.05rem/1.6 Georgia, "Times New Roman", serif; color: #1d1d1d; background: #fdfdfb; margin: 0; }
          main { max-width: 42rem; margin: 0 auto; padding: 1rem; }
          .about { background: #f3f1ea; padding: .75rem 1rem; border-radius: 4px; }
          code { background: #fff; padding: .1rem .3rem; word-break: break-all; }
          h1 { font-size: 1.6rem; line-height: 1.25; }
          h2 { font-size: 1.15rem; line-height: 1.3; margin: 1.5rem 0 .2rem; }
          a { color: #a3161b; }
          .meta { color: #666; font-size: .9rem; margin: 0; }
        </style>
      </head>
      <body>
        <main>
          <p class="about"><strong>This is a web feed.</strong> Copy its address,
            <code><xsl:value-of select="$self"/></code>, into a feed reader to follow
            <xsl:value-of select="$title"/> and get new posts as they appear.
            <a href="{$home}">Visit the site</a>.</p>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="/atom:feed/atom:subtitle"/><xsl:call-template name="text">
            <xsl:with-param name="s" select="/rss/channel/description"/></xsl:call-template></p>
          <xsl:for-each select="/atom:feed/atom:entry">
            <h2><a href="{atom:link[not(@rel) or @rel='alternate'][1]/@href}"><xsl:value-of select="atom:title"/></a></h2>
            <p class="meta"><xsl:value-of select="substring(atom:published, 1, 10)"/></p>
            <p><xsl:value-of select="atom:summary"/></p>
          </xsl:for-each>
          <xsl:for-each select="/rss/channel/item">
            <h2><a href="{link}"><xsl:call-template name="text"><xsl:with-param name="s" select="title"/>
              </xsl:call-template></a></h2>
            <p class="meta"><xsl:value-of select="pubDate"/></p>
            <p><xsl:call-template name="text"><xsl:with-param name="s" select="description"/></xsl:call-template></p>
          </xsl:for-each>
        </main>
      </body>
    </html>
  </xsl:template>
  <!-- RSS text as feeds wrote it: plain text escaped for HTML (&lt; &gt; &amp;), which is shown
       unescaped; not as HTML, which a stylesheet cannot do in every browser (Firefox has no
       disable-output-escaping). -->
  <xsl:template name="text">
    <xsl:param name="s"/>
    <xsl:choose>
      <xsl:when test="contains($s, '&amp;')">
        <xsl:value-of select="substring-before($s, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($s, '&amp;')"/>
        <xsl:choose>
          <xsl:when test="starts-with($rest, 'lt;')">&lt;<xsl:call-template name="text">
            <xsl:with-param name="s" select="substring($rest, 4)"/></xsl:call-template></xsl:when>
          <xsl:when test="starts-with($rest, 'gt;')">&gt;<xsl:call-template name="text">
            <xsl:with-param name="s" select="substring($rest, 4)"/></xsl:call-template></xsl:when>
          <xsl:when test="starts-with($rest, 'amp;')">&amp;<xsl:call-template name="text">
            <xsl:with-param name="s" select="substring($rest, 5)"/></xsl:call-template></xsl:when>
          <xsl:otherwise>&amp;<xsl:call-template name="text">
            <xsl:with-param name="s" select="$rest"/></xsl:call-template></xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
