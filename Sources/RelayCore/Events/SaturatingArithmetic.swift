/// Arithmetic that stops at the type's bounds instead of trapping, for sinks that compute with numbers an event
/// carries (Zoom timestamps, rates, counts). Ingest range-checks what comes from the wire (`RTMSWireLimits`),
/// but a sink can also be fed by replay or custom code, and an overflow trap would end every stream at once.
extension FixedWidthInteger {
    /// `self + other`, or the nearest bound when the sum does not fit.
    @inlinable package func addingSaturated(_ other: Self) -> Self {
        let (result, overflow) = addingReportingOverflow(other)
        guard overflow else { return result }
        return other > 0 ? .max : .min
    }

    /// `self - other`, or the nearest bound when the difference does not fit.
    @inlinable package func subtractingSaturated(_ other: Self) -> Self {
        let (result, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return result }
        return other > 0 ? .min : .max
    }

    /// `self * other`, or the nearest bound when the product does not fit.
    @inlinable package func multipliedSaturated(by other: Self) -> Self {
        let (result, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return result }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
