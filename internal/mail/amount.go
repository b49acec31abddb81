package mail

import (
	"fmt"
	"math"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// FormatAmount formats an amount in minor units (cents; yen for JPY, whose
// minor unit is the yen) of an ISO 4217 currency for a reader of locale:
// FormatAmount(123450, "EUR", "de") is "€ 1.234,50".
func FormatAmount(minor int64, code, locale string) (string, error) {
	unit, err := currency.ParseISO(code)
	if err != nil {
		return "", fmt.Errorf("format amount: currency %q: %w", code, err)
	}
	scale, _ := currency.Standard.Rounding(unit)
	tag, err := language.Parse(locale)
	if err != nil {
		tag = language.English
	}
	value := float64(minor) / math.Pow10(scale)
	return message.NewPrinter(tag).Sprint(currency.Symbol(unit.Amount(value))), nil
}
