//! Pictures on the pane of glass: the stack as the team draws it, one drawing per environment,
//! and small weekly trend charts under the delivery figures. Server-rendered SVG with no script
//! and no `style=` attributes (the CSP allows only the hashed stylesheet): colours are
//! presentation attributes. Each picture has `role="img"` with a `<title>` and `<desc>`, and a
//! visually hidden list says the same for screen readers. The `viewBox` scales to the column,
//! down to a 390 px phone.

mod charts;
mod stack;

#[cfg(test)]
mod tests;

pub(super) use charts::trend_charts;
pub(super) use stack::stack_drawings;

/// How a box or bar is coloured: its fill, its stroke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    /// Live and well.
    Healthy,
    /// A deployment is changing it now.
    Changing,
    /// The latest deployment there failed.
    Failed,
    /// Not part of Baton's releases (the browser), or not known.
    Neutral,
}

impl Tone {
    /// Fill and stroke, the palette of the stylesheet's `ok`, `info` and `bad` banners.
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Tone::Healthy => ("#edf7f0", "#0b6b2e"),
            Tone::Changing => ("#eef5f9", "#0b4f6c"),
            Tone::Failed => ("#fbeeee", "#a4131c"),
            Tone::Neutral => ("#ffffff", "#4a5160"),
        }
    }

    /// The same in a word, so colour is never the only signal.
    fn word(self) -> &'static str {
        match self {
            Tone::Healthy => "healthy",
            Tone::Changing => "changing",
            Tone::Failed => "failed",
            Tone::Neutral => "",
        }
    }
}
