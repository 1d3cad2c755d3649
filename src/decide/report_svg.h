// SVG primitives for the HTML report's charts: element builders (all text escaped), linear and log
// scales with tick choice, text fitting, and a horizontal bar panel reused by several charts.
//
// Charts are static inline SVG styled by the page's CSS classes (report_html.cc); colours that
// carry meaning (the recommended arm, the path taken) are set here so they survive without CSS.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ragft::decide::render {

inline constexpr std::string_view kHighlight = "#d9480f";  // recommended arm, flowchart path taken
inline constexpr std::string_view kSeries = "#4263eb";     // every other arm
inline constexpr std::string_view kSeriesLight = "#a5b4fc";  // a second series (e.g. "before")
inline constexpr std::string_view kMuted = "#adb5bd";      // greyed-out marks and off-path nodes
inline constexpr std::string_view kInk = "#1f2328";
inline constexpr std::string_view kGrid = "#e9ecef";

// A number for an SVG attribute: 1 decimal, no trailing ".0".
std::string px(double v);

// <svg id=... viewBox="0 0 w h" role="img"> with a <title> (and <desc> when given). Close with "</svg>".
std::string svg_open(std::string_view id, double width, double height, std::string_view title,
                     std::string_view desc = {});
// Elements. `cls` is a space-separated class list (may be empty); `style` raw attribute text such
// as `stroke="#d9480f"` (not escaped: callers pass constants only); `tip` becomes a <title> child.
std::string svg_line(double x1, double y1, double x2, double y2, std::string_view cls, std::string_view style = {});
std::string svg_rect(double x, double y, double w, double h, std::string_view cls, std::string_view style = {},
                     std::string_view tip = {});
std::string svg_circle(double cx, double cy, double r, std::string_view cls, std::string_view style = {},
                       std::string_view tip = {});
// anchor: "start" | "middle" | "end".
std::string svg_text(double x, double y, std::string_view text, std::string_view cls = {},
                     std::string_view anchor = "start", std::string_view style = {});
// `fill="COLOUR"` for use as a style argument.
std::string fill(std::string_view colour);
std::string stroke(std::string_view colour, double width = 1);

// Maps [d0, d1] to [r0, r1]; log scale maps log10 of the domain (d0, d1 > 0).
struct Scale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  bool log = false;
  double operator()(double v) const;
};

// About `target` round ticks covering [lo, hi] (steps of 1, 2, 5 x 10^k); lo < hi.
std::vector<double> linear_ticks(double lo, double hi, int target = 5);
// Powers of ten in [lo, hi], plus 2x and 5x when the range spans fewer than three decades.
std::vector<double> log_ticks(double lo, double hi);
// [lo, hi] widened to the nearest multiples of a round step (for a linear axis).
void nice_range(double& lo, double& hi, int target = 5);

// Approximate rendered width in px of `s` at `font_px` (sans-serif, UTF-8 code points).
double text_width(std::string_view s, double font_px);

// `s` cut (with "…") to at most `max_px` wide by text_width.
std::string fit_text(std::string_view s, double font_px, double max_px);

// Label placement: boxes in SVG user units, y down.
struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
  bool inside(const Box& o) const { return x0 >= o.x0 && x1 <= o.x1 && y0 >= o.y0 && y1 <= o.y1; }
};
struct Spot {
  double x = 0, y = 0;               // text baseline point
  std::string_view anchor = "start";  // "start" | "middle" | "end"
};
// The box `text` covers at `spot` (text_width wide, one line of `font_px`).
Box text_box(std::string_view text, double font_px, const Spot& spot);
// The first of `candidates` whose box lies inside `bounds` and overlaps nothing in `taken`, else
// the first candidate; its box is added to `taken`. `candidates` must not be empty.
Spot place_label(std::string_view text, double font_px, const std::vector<Spot>& candidates, const Box& bounds,
                 std::vector<Box>& taken);

struct Bar {
  std::string label;            // left of the bar
  std::optional<double> value;  // no bar when absent or (log scale) <= 0
  std::string value_text;       // printed after the bar (kDash when absent)
  bool highlight = false;       // kHighlight instead of kSeries
  std::string tip;              // hover text
};

// A titled panel of horizontal bars at (x, y), `width` wide, one 20 px row per bar; bars carry
// class "bar" plus `bar_class`. Appends to `out`; returns the panel's height.
double hbar_panel(std::string& out, double x, double y, double width, std::string_view heading,
                  const std::vector<Bar>& bars, std::string_view bar_class, bool log_scale = false);

}  // namespace ragft::decide::render
