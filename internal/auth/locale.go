package auth

import (
	"errors"

	"golang.org/x/text/language"
)

// NormalizeLocale returns the canonical BCP 47 tag of locale ("en" when
// empty).
func NormalizeLocale(locale string) (string, error) {
	if locale == "" {
		return "en", nil
	}
	if len(locale) > 35 {
		return "", errors.New("is not a valid language tag")
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return "", errors.New("is not a valid language tag")
	}
	return tag.String(), nil
}
