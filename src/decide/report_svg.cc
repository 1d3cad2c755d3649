#include "decide/report_svg.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "decide/report_format.h"

namespace ragft::decide::render {

namespace {

std::string tip_element(std::string_view tip) {
  return tip.empty() ? std::string() : "<title>" + html_escape(tip) + "</title>";
}

std::string class_attr(std::string_view cls) {
  return cls.empty() ? std::string() : fmt::format(" class=\"{}\"", html_escape(cls));
}

double round_step(double raw) {
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / mag;
  double m = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return m * mag;
}

}  // namespace

std::string px(double v) {
  if (!std::isfinite(v)) v = 0;
  std::string s = fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string svg_open(std::string_view id, double width, double height, std::string_view title,
                     std::string_view desc) {
  std::string eid = html_escape(id);
  std::string s = fmt::format(
      "<svg id=\"{0}\" class=\"chart\" viewBox=\"0 0 {1} {2}\" width=\"{1}\" height=\"{2}\" role=\"img\" "
      "aria-labelledby=\"{0}-title\"><title id=\"{0}-title\">{3}</title>",
      eid, px(width), px(height), html_escape(title));
  if (!desc.empty()) s += "<desc>" + html_escape(desc) + "</desc>";
  return s;
}

std::string svg_line(double x1, double y1, double x2, double y2, std::string_view cls, std::string_view style) {
  return fmt::format("<line{} x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}{}/>", class_attr(cls), px(x1), px(y1), px(x2),
                     px(y2), style.empty() ? "" : " ", style);
}

std::string svg_rect(double x, double y, double w, double h, std::string_view cls, std::string_view style,
                     std::string_view tip) {
  return fmt::format("<rect{} x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}{}>{}</rect>", class_attr(cls), px(x),
                     px(y), px(std::max(0.0, w)), px(std::max(0.0, h)), style.empty() ? "" : " ", style,
                     tip_element(tip));
}

std::string svg_circle(double cx, double cy, double r, std::string_view cls, std::string_view style,
                       std::string_view tip) {
  return fmt::format("<circle{} cx=\"{}\" cy=\"{}\" r=\"{}\"{}{}>{}</circle>", class_attr(cls), px(cx), px(cy), px(r),
                     style.empty() ? "" : " ", style, tip_element(tip));
}

std::string svg_text(double x, double y, std::string_view text, std::string_view cls, std::string_view anchor,
                     std::string_view style) {
  return fmt::format("<text{} x=\"{}\" y=\"{}\" text-anchor=\"{}\"{}{}>{}</text>", class_attr(cls), px(x), px(y),
                     html_escape(anchor), style.empty() ? "" : " ", style, html_escape(text));
}

std::string fill(std::string_view colour) { return fmt::format("fill=\"{}\"", colour); }

std::string stroke(std::string_view colour, double width) {
  return fmt::format("stroke=\"{}\" stroke-width=\"{}\"", colour, px(width));
}

double Scale::operator()(double v) const {
  double a = d0, b = d1, x = v;
  if (log) {
    a = std::log10(std::max(d0, 1e-300));
    b = std::log10(std::max(d1, 1e-300));
    x = std::log10(std::max(v, 1e-300));
  }
  if (!(b != a)) return (r0 + r1) / 2;
  return r0 + (x - a) / (b - a) * (r1 - r0);
}

std::vector<double> linear_ticks(double lo, double hi, int target) {
  std::vector<double> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  double step = round_step((hi - lo) / std::max(1, target));
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9 && out.size() < 50; t += step) {
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> out;
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return out;
  int k0 = static_cast<int>(std::floor(std::log10(lo)));
  int k1 = static_cast<int>(std::ceil(std::log10(hi)));
  bool fine = std::log10(hi) - std::log10(lo) < 3;
  for (int k = k0; k <= k1 && out.size() < 60; ++k) {
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1.0 && !fine) continue;
      double v = m * std::pow(10.0, k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
    }
  }
  return out;
}

void nice_range(double& lo, double& hi, int target) {
  if (!(hi > lo)) return;
  double step = round_step((hi - lo) / std::max(1, target));
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
}

double text_width(std::string_view s, double font_px) {
  // Rough DejaVu Sans / system-ui advance widths in em; errs on the wide side.
  double em = 0;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (c == ' ' || c == '.' || c == ',' || c == ':' || c == ';' || c == 'i' || c == 'l' || c == 'j' || c == '|') {
      em += 0.34;
    } else if (std::isupper(u) || c == 'm' || c == 'w' || c == '@' || c == '%') {
      em += 0.78;
    } else if (u >= 0x80) {
      em += 0.8;
    } else {
      em += 0.62;
    }
  }
  return em * font_px;
}

std::string fit_text(std::string_view s, double font_px, double max_px) {
  if (text_width(s, font_px) <= max_px) return std::string(s);
  for (std::size_t n = code_points(s); n > 1; --n) {
    std::string t = truncate(s, n);
    if (text_width(t, font_px) <= max_px) return t;
  }
  return truncate(s, 1);
}

Box text_box(std::string_view text, double font_px, const Spot& spot) {
  double w = text_width(text, font_px);
  double x0 = spot.anchor == "end" ? spot.x - w : spot.anchor == "middle" ? spot.x - w / 2 : spot.x;
  return Box{x0 - 1, spot.y - font_px * 0.85, x0 + w + 1, spot.y + font_px * 0.25};
}

Spot place_label(std::string_view text, double font_px, const std::vector<Spot>& candidates, const Box& bounds,
                 std::vector<Box>& taken) {
  for (const auto& c : candidates) {
    Box b = text_box(text, font_px, c);
    if (!b.inside(bounds)) continue;
    if (std::none_of(taken.begin(), taken.end(), [&](const Box& t) { return t.overlaps(b); })) {
      taken.push_back(b);
      return c;
    }
  }
  taken.push_back(text_box(text, font_px, candidates.front()));
  return candidates.front();
}

double hbar_panel(std::string& out, double x, double y, double width, std::string_view heading,
                  const std::vector<Bar>& bars, std::string_view bar_class, bool log_scale) {
  constexpr double kRow = 20, kBarH = 14, kFont = 11, kTop = 26;
  out += svg_text(x, y + 14, heading, "panel-title");
  double label_w = 0, value_w = 0;
  for (const auto& b : bars) {
    label_w = std::max(label_w, text_width(b.label, kFont));
    value_w = std::max(value_w, text_width(b.value_text, kFont));
  }
  label_w = std::min(label_w + 10, width * 0.4);
  value_w = std::min(value_w + 8, width * 0.3);
  double x0 = x + label_w, x1 = x + width - value_w;

  double lo = 0, hi = 0;
  bool any = false;
  for (const auto& b : bars) {
    if (!b.value || (log_scale && *b.value <= 0)) continue;
    if (!any) lo = hi = *b.value;
    lo = std::min(lo, *b.value);
    hi = std::max(hi, *b.value);
    any = true;
  }
  Scale scale{0, hi > 0 ? hi : 1, x0, x1};
  if (log_scale && any) {
    scale.log = true;
    scale.d0 = std::pow(10.0, std::floor(std::log10(lo)) - 0.3);  // a visible stub for the smallest bar
    scale.d1 = std::pow(10.0, std::ceil(std::log10(hi) + 1e-9));
  }
  out += svg_line(x0, y + kTop - 4, x0, y + kTop + kRow * static_cast<double>(bars.size()), "axis");
  double row_y = y + kTop;
  for (const auto& b : bars) {
    out += svg_text(x0 - 6, row_y + kBarH - 3, fit_text(b.label, kFont, label_w - 10), "bar-label", "end");
    bool drawable = b.value && (!log_scale || *b.value > 0) && *b.value >= 0;
    if (drawable) {
      double w = std::max(1.0, scale(*b.value) - x0);
      std::string cls = "bar";
      if (!bar_class.empty()) {
        cls += ' ';
        cls += bar_class;
      }
      if (b.highlight) cls += " recommended";
      out += svg_rect(x0, row_y, w, kBarH, cls, fill(b.highlight ? kHighlight : kSeries),
                      b.tip.empty() ? b.label + ": " + b.value_text : b.tip);
      out += svg_text(x0 + w + 4, row_y + kBarH - 3, b.value_text, "value");
    } else {
      out += svg_text(x0 + 4, row_y + kBarH - 3, b.value_text.empty() ? std::string(kDash) : b.value_text, "value");
    }
    row_y += kRow;
  }
  return kTop + kRow * static_cast<double>(bars.size()) + 6;
}

}  // namespace ragft::decide::render
