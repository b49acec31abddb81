// Package model holds GraphQL types that have no ent entity behind them.
package model
